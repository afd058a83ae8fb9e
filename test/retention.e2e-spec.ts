import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { encodePayload } from '@amr/protocol';
import { PersonalDataRetention } from '@amr/routing';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';

/**
 * Personal-data retention and erasure on request (docs/security.md "Personal data"), on the real
 * platform: rows are back-dated with SQL and the sweep is called directly.
 */
const VICTIM = { name: 'Anna Peeters', phone: '+32470111222', languages: ['nl'] };
const PERPETRATOR = { name: 'Marc Janssens', vehicle: 'grey VW Golf, 1-ABC-123', weaponsKnown: true };
const PRESS_POSITION = { lat: 51.2194, lon: 4.4025, acc: 12, src: 'gnss' };
const TRACK_POSITION = { lat: 51.21953, lon: 4.40211, acc: 6, src: 'gnss' };
/** Strings no erased record may still contain anywhere. */
const PERSONAL = ['51.2194', '4.4025', '51.21953', 'Anna Peeters', 'Marc Janssens', '1-ABC-123', 'perpetrator arrested at home', 'Kerkstraat'];

type Json = Record<string, any>;

describe('personal-data retention', () => {
  const suite = usePlatform();
  const api = () => suite.platform.api();
  const devices: TestDevice[] = [];
  const sweep = () => suite.platform.running.app.get(PersonalDataRetention).sweep();

  /** A case with everything personal, a button, and a closed alarm with a position track. */
  async function closedAlarm(seq = 1): Promise<{ caseId: string; deviceId: string; alarmId: string; device: TestDevice }> {
    const { caseId, deviceId, secret } = await suite.platform.provision('cic-antwerpen', {
      reference: 'AN.12.L3.004512/25',
      responderNotes: 'Lives with two children; Kerkstraat 12',
      victim: VICTIM,
      perpetrator: PERPETRATOR,
      protectionOrders: [{ type: 'residence-ban', places: ['Kerkstraat 12, 2000 Antwerpen'] }],
    });
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    devices.push(device);
    await device.press({ seq, loc: PRESS_POSITION, cell: { mcc: 206, mnc: 10, cid: 26543617, rsrp: -97 }, bat: 81 }, 'json');
    const alarmId = (await device.stage('received', seq)).alarm!;
    await device.publishRaw('loc', encodePayload({ seq: 1, ...TRACK_POSITION }, 'json'));
    await device.publishRaw('status', encodePayload({ seq: 1, bat: 80, loc: TRACK_POSITION }, 'json'));
    await api().post(`/alarms/${alarmId}/accept`).expect(200);
    await api().post(`/alarms/${alarmId}/close`, { outcome: 'perpetrator arrested at home' }).expect(200);
    return { caseId, deviceId, alarmId, device };
  }

  const evidence = async (alarmId: string): Promise<Json> => (await api().get(`/alarms/${alarmId}/evidence`).expect(200)).body;
  const alarm = async (alarmId: string): Promise<Json> => (await api().get(`/alarms/${alarmId}`).expect(200)).body;
  const backdate = (table: 'alarms' | 'cases', id: string, days: number) =>
    suite.db.query(`UPDATE ${table} SET closed_at = now() - make_interval(days => $2) WHERE id = $1`, [id, days]);
  const stored = async (alarmId: string, caseId: string) =>
    JSON.stringify(
      await suite.db.query(
        `SELECT (SELECT jsonb_agg(p) FROM alarm_positions p WHERE p.alarm_id = $1) AS positions,
                (SELECT jsonb_agg(p.message) FROM alarm_presses p WHERE p.alarm_id = $1) AS presses,
                (SELECT jsonb_agg(jsonb_build_object('data', e.data, 'personal', e.personal)) FROM alarm_events e WHERE e.alarm_id = $1) AS events,
                (SELECT to_jsonb(a) FROM alarms a WHERE a.id = $1) AS alarm,
                (SELECT to_jsonb(c) FROM cases c WHERE c.id = $2) AS "case"`,
        [alarmId, caseId],
      ),
    );

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
  });

  describe('an alarm closed longer ago than AMR_RETAIN_ALARM_DATA_DAYS (90)', () => {
    let ids: Awaited<ReturnType<typeof closedAlarm>>;
    let before: Json;

    beforeAll(async () => {
      ids = await closedAlarm();
      before = await alarm(ids.alarmId);
      await suite.platform.integrationToken('cic-antwerpen'); // an integration, for the outbox rows below
    });

    it('shows its positions, payloads and outcome until then, and its timeline verifies', async () => {
      expect(before.positions).toEqual([expect.objectContaining({ lat: 51.2194 }), expect.objectContaining({ lat: 51.21953 })]);
      expect(before.outcome).toBe('perpetrator arrested at home');
      expect(before.timeline.find((e: Json) => e.event === 'routed').position).toMatchObject({ lat: 51.2194, lon: 4.4025 });
      expect((await evidence(ids.alarmId)).verification).toMatchObject({ valid: true, erased: 0 });
      // not yet due: 89 days
      await backdate('alarms', ids.alarmId, 89);
      expect((await sweep()).alarms).toBe(0);
      expect((await alarm(ids.alarmId)).positions).toHaveLength(2);
    });

    it('loses them at the sweep and keeps its skeleton, timings and counts', async () => {
      await backdate('alarms', ids.alarmId, 91);
      before = await alarm(ids.alarmId);
      const result = await sweep();
      expect(result.alarms).toBe(1);
      expect(result.heartbeatPositions).toBe(0); // the heartbeat is recent: its position is kept
      const after = await alarm(ids.alarmId);
      expect(after.positions).toEqual([]);
      expect(after.positionCount).toBe(0);
      expect(after.outcome).toBeNull();
      expect(after.personalDataErasedAt).toEqual(expect.any(String));
      for (const key of ['id', 'deviceId', 'caseId', 'cicId', 'kind', 'stage', 'pressCount', 'retransmissions', 'flags', 'receivedAt', 'deliveredAt', 'acceptedAt', 'dispatchedAt', 'escalationLevel', 'serviceLevels', 'closedAt']) {
        expect(after[key]).toEqual(before[key]);
      }
      const routed = after.timeline.find((e: Json) => e.event === 'routed');
      expect(routed).toMatchObject({ cicId: 'cic-antwerpen', reason: 'position', personalDataErased: true });
      expect(routed.position).toBeUndefined();
      expect(after.timeline.at(-1)).toMatchObject({ event: 'erased', reason: 'retention', by: 'platform:retention', positions: 2, presses: 1, entries: 2 });
      // the alarm's case is not due yet: it still has its data
      expect(after.case).toMatchObject({ victim: VICTIM, erasedAt: null });
    });

    it('keeps a timeline whose hash chain still verifies, with nothing personal left in it', async () => {
      const exported = await evidence(ids.alarmId);
      expect(exported.verification).toMatchObject({ valid: true, erased: 2 });
      expect(exported.verification.linkOnly).toBeUndefined();
      const routed = exported.timeline.find((e: Json) => e.type === 'routed');
      expect(routed).toMatchObject({ personal: null, personalDigest: expect.stringMatching(/^[0-9a-f]{64}$/), erasedAt: expect.any(String) });
      const text = JSON.stringify({ ...exported, alarm: { ...exported.alarm, case: null } });
      for (const word of ['51.2194', '4.4025', '51.21953', 'perpetrator arrested']) expect(text).not.toContain(word);
      const [press] = await suite.db.query(`SELECT message FROM alarm_presses WHERE alarm_id = $1`, [ids.alarmId]);
      expect(press.message).toEqual({ seq: 1, kind: 'panic' }); // no position, cell or battery
    });

    it('is erased once, however often and on however many nodes the sweep runs', async () => {
      const another = await closedAlarm();
      await backdate('alarms', another.alarmId, 91);
      const results = await Promise.all([sweep(), sweep()]);
      expect(results[0]!.alarms + results[1]!.alarms).toBe(1);
      expect((await sweep()).alarms).toBe(0);
      for (const id of [ids.alarmId, another.alarmId]) {
        expect((await alarm(id)).timeline.filter((e: Json) => e.event === 'erased')).toHaveLength(1);
      }
    });

    it('erases heartbeat positions and webhook copies older than the period', async () => {
      await suite.db.query(`UPDATE device_status_reports SET received_at = now() - interval '91 days' WHERE device_id = $1`, [ids.deviceId]);
      await suite.db.query(
        `INSERT INTO webhook_deliveries (integration_id, event_type, payload, state, created_at)
         SELECT id, 'alarm.closed', '{"id": "x", "positions": [{"lat": 51.2194}]}'::jsonb, 'delivered', now() - interval '91 days'
           FROM integrations LIMIT 1`,
      );
      const result = await sweep();
      expect(result.heartbeatPositions).toBe(1);
      const [report] = await suite.db.query(`SELECT position FROM device_status_reports WHERE device_id = $1`, [ids.deviceId]);
      expect(report.position).toBeNull();
      const copies = await suite.db.query(`SELECT payload FROM webhook_deliveries WHERE created_at < now() - interval '90 days'`);
      expect(copies.map((c: Json) => c.payload)).toEqual(copies.map(() => ({ personalDataErased: true })));
    });

    it('leaves recent and open alarms alone', async () => {
      const recent = await closedAlarm();
      const { deviceId, secret } = await suite.platform.provision('cic-antwerpen');
      const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
      devices.push(device);
      await device.press({ seq: 1, loc: PRESS_POSITION });
      const open = (await device.stage('received', 1)).alarm!;
      await suite.db.query(`UPDATE alarms SET received_at = now() - interval '400 days' WHERE id = $1`, [open]);
      await sweep();
      expect((await alarm(recent.alarmId)).positions).toHaveLength(2);
      expect((await alarm(open)).positions).toHaveLength(1);
      expect((await alarm(open)).personalDataErasedAt).toBeNull();
    });
  });

  describe('a closed case, AMR_RETAIN_CASE_DATA_DAYS (365) after it was closed', () => {
    it('is closed through the API (its button back in stock), then erased with its alarms by the sweep', async () => {
      const ids = await closedAlarm();
      const closed = (await api().post(`/cases/${ids.caseId}/close`).expect(200)).body;
      expect(closed).toMatchObject({ closedAt: expect.any(String), erasedAt: null, victim: VICTIM });
      expect((await api().get(`/devices/${ids.deviceId}`).expect(200)).body.caseId).toBeNull();

      await backdate('cases', ids.caseId, 364);
      expect((await sweep()).cases).toBe(0);
      await backdate('cases', ids.caseId, 366);
      const result = await sweep();
      expect(result.cases).toBe(1);

      const erased = (await api().get(`/cases/${ids.caseId}`).expect(200)).body;
      expect(erased).toMatchObject({ id: ids.caseId, homeCicId: 'cic-antwerpen', riskLevel: 'high', reference: null, responderNotes: null, perpetrator: null, victim: null, protectionOrders: [], erasedAt: expect.any(String) });
      const after = await alarm(ids.alarmId);
      expect(after.positions).toEqual([]);
      expect(after.timeline.at(-1)).toMatchObject({ event: 'erased', reason: 'retention' });
      expect((await evidence(ids.alarmId)).verification).toMatchObject({ valid: true });
      const text = await stored(ids.alarmId, ids.caseId);
      for (const word of PERSONAL) expect(text).not.toContain(word);
    });

    it('refuses to close a case while one of its alarms is open', async () => {
      const { caseId, deviceId, secret } = await suite.platform.provision('cic-antwerpen');
      const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
      devices.push(device);
      await device.press({ seq: 1 });
      await device.stage('received', 1);
      const refused = await api().post(`/cases/${caseId}/close`).expect(409);
      expect(refused.body.message).toMatch(/open alarm/);
    });
  });

  describe('DELETE /api/v1/cases/{id}: erasure on request', () => {
    let ids: Awaited<ReturnType<typeof closedAlarm>>;

    beforeAll(async () => {
      ids = await closedAlarm(7);
    });

    it('is refused while one of its alarms is open, and to anyone but the admin', async () => {
      await ids.device.press({ seq: 8 });
      const open = (await ids.device.stage('received', 8)).alarm!;
      const refused = await api().delete(`/cases/${ids.caseId}`).expect(409);
      expect(refused.body.message).toMatch(new RegExp(`open alarm \\(${open}\\)`));
      await api().post(`/alarms/${open}/close`, { outcome: 'false alarm, Kerkstraat' }).expect(200);
      const token = await suite.platform.integrationToken('cic-antwerpen');
      await suite.platform.api(token).delete(`/cases/${ids.caseId}`).expect(403);
      await api().delete('/cases/00000000-0000-4000-8000-000000000000').expect(404);
      await api().delete('/cases/not-a-uuid').expect(400);
    });

    it('erases the case, its alarms and its button\'s positions at once; the alarms keep skeletons that verify', async () => {
      const res = await api().delete(`/cases/${ids.caseId}`).expect(200);
      expect(res.body).toMatchObject({ case: { id: ids.caseId, victim: null, perpetrator: null, erasedAt: expect.any(String), closedAt: expect.any(String) }, alarms: 2, devicesUnassigned: [ids.deviceId] });
      const alarms = (await api().get('/alarms?state=closed').expect(200)).body.filter((a: Json) => a.caseId === ids.caseId);
      expect(alarms).toHaveLength(2);
      for (const a of alarms) {
        expect(a).toMatchObject({ positions: [], outcome: null, personalDataErasedAt: expect.any(String), stage: 'closed', pressCount: 1 });
        expect(a.timeline.at(-1)).toMatchObject({ event: 'erased', reason: 'case-erased', by: 'admin' });
        expect((await evidence(a.id)).verification).toMatchObject({ valid: true });
        const text = await stored(a.id, ids.caseId);
        for (const word of PERSONAL) expect(text).not.toContain(word);
      }
      const reports = await suite.db.query(`SELECT position FROM device_status_reports WHERE device_id = $1`, [ids.deviceId]);
      expect(reports.map((r: Json) => r.position)).toEqual([null]);
    });

    it('sends its button back to stock: active, unassigned, no position; a press is answered rejected', async () => {
      const device = (await api().get(`/devices/${ids.deviceId}`).expect(200)).body;
      expect(device).toMatchObject({ caseId: null, active: true, lastPosition: null, supervised: false });
      const history = (await api().get(`/devices/${ids.deviceId}/history`).expect(200)).body;
      expect(history.events.at(-1)).toMatchObject({ type: 'unassigned', actor: 'admin', details: { caseId: ids.caseId, reason: 'case-erased' } });
      await ids.device.press({ seq: 9 });
      expect((await ids.device.stage('rejected', 9)).reason).toMatch(/not assigned/);
    });

    it('changes nothing when asked again', async () => {
      const again = await api().delete(`/cases/${ids.caseId}`).expect(200);
      expect(again.body).toMatchObject({ alarms: 0, devicesUnassigned: [] });
    });
  });
});
