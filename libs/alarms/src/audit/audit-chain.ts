import { createHash } from 'node:crypto';
import { canonicalJson, type ChainVerification } from '../timeline.js';

/** The audit trail's verification: as the timeline's, without personal parts (an entry holds none). */
export type AuditVerification = Omit<ChainVerification, 'erased' | 'linkOnly'>;

/**
 * The audit trail is one hash chain, built like the alarm timeline's: each entry stores its
 * predecessor's hash and a SHA-256 over that hash and its own canonical content.
 */
export const AUDIT_HASH = 'sha256(prevHash + "\\n" + canonical JSON of {at, principal, cicId, method, route, action, targets, status, details})';

/** One call to the API, as the audit trail records it. */
export interface AuditRecord {
  /** When the call arrived. */
  readonly at: Date;
  /** `admin`, `integration:<id>`, `sms-gateway` or `anonymous`. */
  readonly principal: string;
  /** The integration's CIC. */
  readonly cicId: string | null;
  readonly method: string;
  /** The route as declared, e.g. `/api/v1/alarms/:id/accept`. */
  readonly route: string;
  /** `<feature>.<operation>`, e.g. `alarms.accept`. */
  readonly action: string;
  /** What the call was about: the ids it named and the ids of what it answered with (alarms, their cases, a created device…). */
  readonly targets: readonly string[];
  /** The HTTP status it was answered with. */
  readonly status: number;
  readonly details: Record<string, unknown>;
}

export interface AuditEntry extends AuditRecord {
  readonly id: number;
  readonly prevHash: string | null;
  readonly hash: string;
}

export function auditHash(prevHash: string | null, record: AuditRecord): string {
  const { at, principal, cicId, method, route, action, targets, status, details } = record;
  const content = canonicalJson({ at: at.toISOString(), principal, cicId, method, route, action, targets, status, details });
  return createHash('sha256').update(`${prevHash ?? ''}\n${content}`).digest('hex');
}

/** Records appended after `prevHash` (the chain's last entry), each hashed over its predecessor. */
export function chainAudit(prevHash: string | null, records: readonly AuditRecord[]): (AuditRecord & { prevHash: string | null; hash: string })[] {
  return records.map((record) => {
    const entry = { ...record, prevHash, hash: auditHash(prevHash, record) };
    prevHash = entry.hash;
    return entry;
  });
}

/**
 * Checks entries against their hashes. `predecessorOf(entry)` is the hash the entry must follow:
 * for a contiguous run of the chain, the previous entry's; for scattered entries (an alarm's),
 * the stored hash of the entry just before each in the chain.
 */
export function verifyAudit(entries: readonly AuditEntry[], predecessorOf: (entry: AuditEntry, index: number) => string | null): AuditVerification {
  const result = (firstInvalid?: { id: number; reason: string }): AuditVerification => ({
    valid: !firstInvalid,
    entries: entries.length,
    algorithm: AUDIT_HASH,
    ...(firstInvalid ? { firstInvalid } : {}),
  });
  for (const [i, entry] of entries.entries()) {
    if ((entry.prevHash ?? null) !== predecessorOf(entry, i)) {
      return result({ id: entry.id, reason: 'prevHash does not match the entry before it (an entry was removed, inserted or reordered)' });
    }
    if (entry.hash !== auditHash(entry.prevHash, entry)) {
      return result({ id: entry.id, reason: 'hash does not match the stored content (the entry was altered)' });
    }
  }
  return result();
}
