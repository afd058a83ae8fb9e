import type { TLSSocket } from 'node:tls';
import { certificateFingerprint } from '@amr/security';

/** The client certificate a device presented over TLS (CONTRACT §1), as the broker judges it. */
export interface PresentedCertificate {
  /** It chains to the device CA and is within its validity (the TLS handshake's verdict). */
  trusted: boolean;
  /** The subject's CN; undefined when there is none, or more than one. */
  commonName: string | undefined;
  /** SHA-256 of its DER bytes, lowercase hex: compared with the one stored for the device. */
  fingerprint: string;
}

/**
 * The certificate presented on a connection, if any. Only a TLS listener with a device CA asks for
 * one; a plain TCP connection, or a TLS client that sent none, has none.
 */
export function presentedCertificate(conn: unknown): PresentedCertificate | undefined {
  const socket = conn as Partial<TLSSocket> | undefined;
  if (typeof socket?.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.raw) return undefined;
  const cn: unknown = peer.subject?.CN;
  return {
    trusted: socket.authorized === true,
    commonName: typeof cn === 'string' ? cn : undefined,
    fingerprint: certificateFingerprint(peer.raw),
  };
}
