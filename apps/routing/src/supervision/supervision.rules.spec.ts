import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Alarm, Device, ProtectionCase, closeDatabase, openDatabase, resetDatabase } from '@amr/persistence';
import { clearSql, raiseSql, supervisionRules } from './supervision.rules.js';

const T0 = new Date('2026-11-30T08:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
/** heartbeat 60 s + grace 30 s: a device last heard at T0 is silent from T0 + 90 s. */
const SILENT_AFTER_S = 90;

interface Change {
  deviceId: string;
  type: string;
  details: Record<string, unknown>;
}

describe('supervision rules', () => {
  let db: DataSource;
  let openCase: string;

  beforeAll(async () => {
    db = await openDatabase({ url: process.env.TEST_DATABASE_URL || undefined, dataDir: 'memory://' });
    await resetDatabase(db);
    openCase = (await db.getRepository(ProtectionCase).save({ homeCicId: 'cic-limburg' })).id;
  }, 120_000);

  afterAll(async () => {
    if (db) await closeDatabase(db);
  });

  type DeviceState = Partial<Pick<Device, 'caseId' | 'active' | 'lastSeenAt' | 'battery' | 'grantExpiresAt'>>;
  const device = (id: string, state: DeviceState = {}) =>
    db.getRepository(Device).insert({ id, secretHash: 'x', caseId: openCase, assignedAt: T0, heartbeatS: 60, graceS: 30, ...state });

  /** One sweep of the rules at `now`, as the supervision service runs it: clears, then raises; only `ids`' changes. */
  async function sweep(now: Date, ids: string[], settings = { lowBatteryPct: 20, selfTestEveryS: 0 }) {
    const raised: Change[] = [];
    const cleared: Change[] = [];
    for (const rule of supervisionRules(settings)) {
      const params = rule.param === undefined ? [now] : [now, rule.param];
      cleared.push(...((await db.query(clearSql(rule), params)) as Change[]));
      raised.push(...((await db.query(raiseSql(rule), params)) as Change[]));
    }
    const mine = (c: Change) => ids.includes(c.deviceId);
    const brief = (c: Change) => `${c.deviceId} ${c.type}`;
    return { raised: raised.filter(mine).map(brief), cleared: cleared.filter(mine).map(brief), details: [...raised, ...cleared].filter(mine) };
  }

  it('raises `silent` once a device stays quiet past its heartbeat and grace, once, and clears it when the device speaks', async () => {
    await device('sv-silent', { lastSeenAt: T0 });
    expect((await sweep(at(SILENT_AFTER_S - 1), ['sv-silent'])).raised).toEqual([]);

    const late = await sweep(at(SILENT_AFTER_S + 1), ['sv-silent']);
    expect(late.raised).toEqual(['sv-silent silent']);
    expect(late.details[0].details).toMatchObject({ heartbeatS: 60, graceS: 30, caseId: openCase, cicId: 'cic-limburg' });
    expect(Date.parse(late.details[0].details.dueAt as string)).toBe(at(SILENT_AFTER_S).getTime());
    expect((await sweep(at(SILENT_AFTER_S + 60), ['sv-silent'])).raised).toEqual([]); // one open alert, not one per sweep

    await db.getRepository(Device).update({ id: 'sv-silent' }, { lastSeenAt: at(SILENT_AFTER_S + 100) });
    const spoke = await sweep(at(SILENT_AFTER_S + 101), ['sv-silent']);
    expect(spoke.cleared).toEqual(['sv-silent silent']);
    expect(spoke.details[0].details).toMatchObject({ clearedBecause: 'device-spoke' });
  });

  it('counts the silence of a device never heard from since its assignment', async () => {
    await device('sv-never', { lastSeenAt: null });
    expect((await sweep(at(SILENT_AFTER_S - 1), ['sv-never'])).raised).toEqual([]);
    expect((await sweep(at(SILENT_AFTER_S + 1), ['sv-never'])).raised).toEqual(['sv-never silent']);
  });

  it('supervises only an active device of an open case whose grant runs', async () => {
    const closedCase = (await db.getRepository(ProtectionCase).save({ homeCicId: 'cic-limburg', closedAt: T0 })).id;
    await device('sv-inactive', { active: false });
    await device('sv-unassigned', { caseId: null });
    await device('sv-case-closed', { caseId: closedCase });
    await device('sv-grant-over', { grantExpiresAt: at(10) });
    await device('sv-grant-runs', { grantExpiresAt: at(3600) });
    const ids = ['sv-inactive', 'sv-unassigned', 'sv-case-closed', 'sv-grant-over', 'sv-grant-runs'];
    expect((await sweep(at(SILENT_AFTER_S + 1), ids)).raised).toEqual(['sv-grant-runs silent']);
  });

  it('clears an open alert as `not-supervised` when its device is deactivated', async () => {
    await device('sv-retired', { lastSeenAt: T0 });
    expect((await sweep(at(SILENT_AFTER_S + 1), ['sv-retired'])).raised).toEqual(['sv-retired silent']);
    await db.getRepository(Device).update({ id: 'sv-retired' }, { active: false });
    const after = await sweep(at(SILENT_AFTER_S + 2), ['sv-retired']);
    expect(after.cleared).toEqual(['sv-retired silent']);
    expect(after.details[0].details).toMatchObject({ clearedBecause: 'not-supervised' });
  });

  it('raises `low-battery` below the threshold and clears it only 5 points above, so a hovering battery does not flap', async () => {
    const now = at(10);
    await device('sv-battery', { lastSeenAt: now, battery: 20 });
    expect((await sweep(now, ['sv-battery'])).raised).toEqual([]);

    await db.getRepository(Device).update({ id: 'sv-battery' }, { battery: 19 });
    const low = await sweep(now, ['sv-battery']);
    expect(low.raised).toEqual(['sv-battery low-battery']);
    expect(low.details[0].details).toMatchObject({ battery: 19, thresholdPct: 20 });

    await db.getRepository(Device).update({ id: 'sv-battery' }, { battery: 24 });
    expect((await sweep(now, ['sv-battery'])).cleared).toEqual([]);
    await db.getRepository(Device).update({ id: 'sv-battery' }, { battery: 25 });
    const recharged = await sweep(now, ['sv-battery']);
    expect(recharged.cleared).toEqual(['sv-battery low-battery']);
    expect(recharged.details[0].details).toMatchObject({ clearedBecause: 'recharged' });
  });

  it('raises `missed-self-test` only when self-tests are supervised, and clears it when a self-test arrives', async () => {
    const every = { lowBatteryPct: 20, selfTestEveryS: 3600 };
    const due = 3600 + 30; // the period, then the device's grace
    await device('sv-selftest', { lastSeenAt: at(due + 10) });
    const ids = ['sv-selftest'];
    expect((await sweep(at(due + 1), ids, { lowBatteryPct: 20, selfTestEveryS: 0 })).raised).toEqual([]);
    expect((await sweep(at(due - 1), ids, every)).raised).toEqual([]);
    expect((await sweep(at(due + 1), ids, every)).raised).toEqual(['sv-selftest missed-self-test']);

    await db.getRepository(Alarm).insert({
      deviceId: 'sv-selftest', caseId: openCase, cicId: 'cic-limburg', homeCicId: 'cic-limburg', kind: 'test', firstSeq: 1, lastSeq: 1, receivedAt: at(due + 5),
    });
    const tested = await sweep(at(due + 6), ids, every);
    expect(tested.cleared).toEqual(['sv-selftest missed-self-test']);
    expect(tested.details[0].details).toMatchObject({ clearedBecause: 'self-test-received' });
  });

  it('finds silent and low-battery devices through their indexes, not by reading the fleet', async () => {
    // with the planner told to avoid scans where it can, a statement whose condition no longer
    // matches the index's expression would still scan every device
    const plans: Record<string, string> = {};
    await db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      for (const rule of supervisionRules({ lowBatteryPct: 20, selfTestEveryS: 0 })) {
        const params = rule.param === undefined ? [T0] : [T0, rule.param];
        const rows = (await tx.query(`EXPLAIN ${raiseSql(rule)}`, params)) as { 'QUERY PLAN': string }[];
        plans[rule.type] = rows.map((r) => r['QUERY PLAN']).join('\n');
      }
    });
    expect(plans['silent']).toContain('devices_silent_due_idx');
    expect(plans['low-battery']).toContain('devices_battery_idx');
  });
});
