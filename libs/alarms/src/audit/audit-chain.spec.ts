import { describe, expect, it } from '@jest/globals';
import { auditHash, chainAudit, verifyAudit, type AuditEntry, type AuditRecord } from './audit-chain.js';

const record = (n: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  at: new Date(Date.UTC(2026, 10, 23, 12, 0, n)),
  principal: 'integration:00000000-0000-4000-8000-0000000000a1',
  cicId: 'cic-namur',
  method: 'POST',
  route: '/api/v1/alarms/:id/accept',
  action: 'alarms.accept',
  targets: ['5f0c1d7e-8a43-4b7e-9f57-0e4b7b1f2a10'],
  status: 200,
  details: {},
  ...over,
});

function stored(records: AuditRecord[], prev: string | null = null): AuditEntry[] {
  return chainAudit(prev, records).map((e, i) => ({ ...e, id: i + 1 }));
}

const contiguous = (entries: AuditEntry[], start: string | null = null) => (_: AuditEntry, i: number) => (i === 0 ? start : entries[i - 1]!.hash);

describe(verifyAudit.name, () => {
  it('verifies an untouched chain', () => {
    const entries = stored([record(1), record(2, { method: 'GET', action: 'alarms.get', status: 404 }), record(3)]);
    expect(verifyAudit(entries, contiguous(entries))).toMatchObject({ valid: true, entries: 3 });
  });

  it('names an entry whose outcome was changed', () => {
    const entries = stored([record(1), record(2), record(3)]);
    entries[1] = { ...entries[1]!, status: 403 };
    expect(verifyAudit(entries, contiguous(entries)).firstInvalid).toEqual({ id: 2, reason: expect.stringMatching(/altered/) });
  });

  it('names the entry after one that was removed', () => {
    const entries = stored([record(1), record(2), record(3)]);
    const gap = [entries[0]!, entries[2]!];
    expect(verifyAudit(gap, contiguous(gap)).firstInvalid).toEqual({ id: 3, reason: expect.stringMatching(/removed/) });
  });

  it('does not depend on the order of keys in details (jsonb keeps none)', () => {
    const a = record(1, { details: { query: 'state=open', n: 1 } });
    const b = record(1, { details: { n: 1, query: 'state=open' } });
    expect(auditHash('x', a)).toBe(auditHash('x', b));
  });

  it('binds each entry to its predecessor: the same record after another head hashes differently', () => {
    expect(auditHash(null, record(1))).not.toBe(auditHash('f'.repeat(64), record(1)));
  });
});
