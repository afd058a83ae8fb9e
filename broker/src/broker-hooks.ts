import type { AedesOptions } from 'aedes';
import type { ConnectionGate } from './connection-gate.js';
import type { DeviceAuthenticator } from './device-authenticator.js';
import type { TopicPolicy } from './topic-policy.js';

/** The aedes hooks that carry the broker's policy (CONTRACT §1–§3), in the order aedes calls them. */
export type PolicyHooks = Required<Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>>;

/**
 * The policy seam of the broker: the CONNECT deadline is met once its packet is read (preConnect),
 * then the device is authenticated, then each PUBLISH and SUBSCRIBE goes through the topic ACL.
 */
export function policyHooks(gate: ConnectionGate, auth: DeviceAuthenticator, policy: TopicPolicy): PolicyHooks {
  return {
    preConnect: (client, _packet, done) => {
      gate.connectReceived(client.conn);
      done(null, true);
    },
    authenticate: auth.authenticate,
    authorizePublish: policy.authorizePublish,
    authorizeSubscribe: policy.authorizeSubscribe,
  };
}
