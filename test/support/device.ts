import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { deviceTopic, encodePayload, parseAck, type AckMessage, type Encoding } from '@amr/protocol';

/** Thrown when the broker refuses the connection; `code` is the CONNACK return code. */
export class Refused extends Error {
  constructor(readonly code: number | undefined) {
    super(`connection refused with return code ${code}`);
  }
}

/** Connects a real mqtt.js client; rejects with Refused on a CONNACK error. Nagle off (on every reconnection too). */
/** The Session Present flag of each client's last CONNACK. */
const sessionPresent = new WeakMap<MqttClient, boolean>();

export function connectClient(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
    const refused = (err: Error & { code?: number }) => {
      client.end(true);
      reject(new Refused(err.code));
    };
    client.once('error', refused);
    client.on('connect', () => (client.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true));
    client.on('connect', (connack: { sessionPresent?: boolean }) => sessionPresent.set(client, connack.sessionPresent === true));
    client.once('connect', () => {
      // Once connected, a lost connection is the test's business (reconnectPeriod), not a refusal.
      client.off('error', refused);
      client.on('error', () => undefined);
      resolve(client);
    });
  });
}

/** Connects and disconnects; resolves with 0, or the CONNACK return code of a refusal. */
export async function connackCode(url: string, options: IClientOptions): Promise<number | undefined> {
  try {
    const client = await connectClient(url, options);
    await client.endAsync(true);
    return 0;
  } catch (err) {
    if (err instanceof Refused) return err.code;
    throw err;
  }
}

/** A button as the tests drive it: presses, and the acks it has received, in order. */
export class TestDevice {
  readonly acks: AckMessage[] = [];
  readonly raw: Buffer[] = [];
  /** Resolves when the connection has closed, whichever side closed it. */
  readonly closed: Promise<void>;
  private waiters: { match: (a: AckMessage) => boolean; resolve: (a: AckMessage) => void }[] = [];

  private constructor(readonly id: string, readonly client: MqttClient) {
    this.closed = new Promise((resolve) => client.once('close', () => resolve()));
    client.on('message', (topic, payload) => {
      if (topic !== deviceTopic(id, 'ack')) return;
      this.raw.push(payload);
      const parsed = parseAck(payload);
      if (!parsed.ok) throw new Error(`undecodable ack: ${parsed.error.message}`);
      this.acks.push(parsed.message);
      this.waiters = this.waiters.filter((w) => (w.match(parsed.message) ? (w.resolve(parsed.message), false) : true));
    });
  }

  static async connect(url: string, id: string, secret: string, options: IClientOptions = {}): Promise<TestDevice> {
    const client = await connectClient(url, { clientId: id, username: id, password: secret, clean: true, ...options });
    const device = new TestDevice(id, client);
    await client.subscribeAsync(deviceTopic(id, 'ack'), { qos: 1 });
    return device;
  }

  /**
   * Connects again with a persistent session (Clean Session 0) and, as firmware does when the
   * CONNACK says Session Present, does not subscribe again.
   */
  static async resume(url: string, id: string, secret: string): Promise<TestDevice> {
    const client = await connectClient(url, { clientId: id, username: id, password: secret, clean: false });
    return new TestDevice(id, client);
  }

  /** The Session Present flag of this connection's CONNACK. */
  get sessionPresent(): boolean {
    return sessionPresent.get(this.client) === true;
  }

  press(fields: Record<string, unknown>, encoding: Encoding = 'cbor'): Promise<unknown> {
    return this.client.publishAsync(deviceTopic(this.id, 'alarm'), encodePayload(fields, encoding), { qos: 1 });
  }

  publishRaw(channel: 'alarm' | 'loc' | 'status', payload: Buffer): Promise<unknown> {
    return this.client.publishAsync(deviceTopic(this.id, channel), payload, { qos: 1 });
  }

  /** Resolves with the first ack (already received or arriving) that matches. */
  ack(match: (a: AckMessage) => boolean, timeoutMs = 5000): Promise<AckMessage> {
    const seen = this.acks.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.id}: no matching ack within ${timeoutMs} ms; got ${JSON.stringify(this.acks)}`)), timeoutMs);
      this.waiters.push({ match, resolve: (a) => (clearTimeout(timer), resolve(a)) });
    });
  }

  stage(stage: AckMessage['stage'], seq?: number, timeoutMs?: number): Promise<AckMessage> {
    return this.ack((a) => a.stage === stage && (seq === undefined || a.seq === seq), timeoutMs);
  }

  /**
   * Publishes a status report (QoS 1) and resolves with what comes first: `served`, its PUBACK (the
   * broker still serves this connection), or `cut`, the connection closed with the report unanswered.
   */
  statusOrCut(): Promise<'served' | 'cut'> {
    const answered = this.client
      .publishAsync(deviceTopic(this.id, 'status'), encodePayload({ seq: 1 }, 'cbor'), { qos: 1 })
      .then(() => 'served' as const, () => 'cut' as const);
    return Promise.race([answered, this.closed.then(() => 'cut' as const)]);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
