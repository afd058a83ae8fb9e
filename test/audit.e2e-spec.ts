import { describe, expect, it } from '@jest/globals';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { SseClient } from './support/sse.js';
import { eventually } from './support/eventually.js';

interface Entry {
  id: number;
  at: string;
  principal: string;
  cicId: string | null;
  method: string;
  route: string;
  action: string;
  targets: string[];
  status: number;
  details: Record<string, unknown>;
  prevHash: string | null;
  hash: string;
}

/**
 * The audit trail on the real platform: every call that reaches a route is an entry — who, when,
 * which route, on what, with what outcome — in one append-only hash chain; GET /api/v1/audit
 * (administrators) filters and pages it, GET /api/v1/audit/verification walks the chain, and an
 * alarm's evidence export carries the entries that name the alarm.
 */
describe('audit trail', () => {
  const suite = usePlatform();

  const audit = async (query: string): Promise<Entry[]> => (await suite.platform.api().get(`/audit?${query}`).expect(200)).body.items;

  it('records who read and worked an alarm, on what and with what outcome, and exports it with the alarm', async () => {
    const { platform } = suite;
    const antwerpen = (await platform.api().post('/integrations', { cicId: 'cic-antwerpen', name: 'console' }).expect(201)).body as { id: string; token: string };
    const limburg = await platform.integrationToken('cic-limburg');
    const { caseId, deviceId, secret } = await platform.provision('cic-antwerpen');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 });
      const { alarm } = await device.stage('received', 1);
      await platform.api(antwerpen.token).get(`/alarms/${alarm}`).expect(200);
      await platform.api(antwerpen.token).post(`/alarms/${alarm}/accept`).expect(200);
      await platform.api(antwerpen.token).post(`/alarms/${alarm}/accept`).expect(409);
      await platform.api(limburg).get(`/alarms/${alarm}`).expect(404);
      await platform.http.get(`/api/v1/alarms/${alarm}`).expect(401); // no principal: not an entry (counted in /metrics)

      const entries = await audit(`target=${alarm}`);
      const principal = `integration:${antwerpen.id}`;
      expect(entries.map((e) => [e.principal, e.method, e.route, e.action, e.status]).reverse()).toEqual([
        [principal, 'GET', '/api/v1/alarms/:id', 'alarms.get', 200],
        [principal, 'POST', '/api/v1/alarms/:id/accept', 'alarms.accept', 200],
        [principal, 'POST', '/api/v1/alarms/:id/accept', 'alarms.accept', 409],
        [expect.stringMatching(/^integration:/), 'GET', '/api/v1/alarms/:id', 'alarms.get', 404],
      ]);
      expect(entries[entries.length - 1]).toMatchObject({ cicId: 'cic-antwerpen', targets: expect.arrayContaining([alarm, caseId]) });
      expect(entries[0]).toMatchObject({ cicId: 'cic-limburg', targets: [alarm] });
      // A read of the case's data is found by the case, too.
      expect((await audit(`target=${caseId}&action=alarms.get`)).map((e) => e.status)).toEqual([200]);

      // The evidence export carries them, each verified against its place in the chain.
      const evidence = (await platform.api().get(`/alarms/${alarm}/evidence`).expect(200)).body;
      expect(evidence.audit.entries.map((e: Entry) => `${e.action} ${e.status}`)).toEqual(['alarms.get 200', 'alarms.accept 200', 'alarms.accept 409', 'alarms.get 404']);
      expect(evidence.audit).toMatchObject({ complete: true, verification: { valid: true, entries: 4 } });
      // …and the export is itself a read, recorded (after it).
      expect((await audit(`target=${alarm}&action=alarms.evidence&principal=admin`)).length).toBe(1);
      // An integration's export carries its own CIC's calls only: not the administrator's, not Limburg's attempt.
      const own = (await platform.api(antwerpen.token).get(`/alarms/${alarm}/evidence`).expect(200)).body.audit;
      expect(own.entries.map((e: Entry) => `${e.action} ${e.status}`)).toEqual(['alarms.get 200', 'alarms.accept 200', 'alarms.accept 409']);
      expect(own.verification).toMatchObject({ valid: true, entries: 3 });
    } finally {
      await device.close();
    }
  });

  it('records the administrator’s changes with what they created, and the opening of event streams', async () => {
    const { platform } = suite;
    const before = new Date().toISOString();
    const created = (await platform.api().post('/cases', { homeCicId: 'cic-namur' }).expect(201)).body as { id: string };
    await platform.api().post('/cases', { homeCicId: 'cic-nowhere' }).expect(422);
    const device = (await platform.api().post('/devices', { caseId: created.id }).expect(201)).body as { deviceId: string };
    await platform.api().post(`/devices/${device.deviceId}/deactivate`).expect(200);

    const changes = await audit(`principal=admin&from=${before}`);
    expect(changes.map((e) => `${e.action} ${e.status}`).reverse()).toEqual(['cases.create 201', 'cases.create 422', 'devices.create 201', 'devices.deactivate 200']);
    expect(changes[3]!.targets).toEqual([created.id]);
    expect(changes[1]!.targets).toEqual(expect.arrayContaining([device.deviceId, created.id]));
    expect(changes[0]!.targets).toEqual(expect.arrayContaining([device.deviceId, created.id]));
    // Never a body: no secret, no case data.
    expect(JSON.stringify(changes)).not.toMatch(/secret|homeCicId/);

    const token = await platform.integrationToken('cic-namur');
    const stream = new SseClient(`${platform.httpUrl}/api/v1/events`, token);
    await stream.opened;
    stream.close();
    const [opened] = await eventually(() => audit(`action=events.stream&from=${before}`), (e) => e.length === 1);
    expect(opened).toMatchObject({ method: 'GET', route: '/api/v1/events', status: 200, cicId: 'cic-namur' });
  });

  it('pages and filters within bounds; the trail is for administrators only', async () => {
    const { platform } = suite;
    // Cases created so far (the reads of the trail are entries too, so they are filtered out).
    const page1 = (await platform.api().get('/audit?action=cases.create&limit=2').expect(200)).body;
    const page2 = (await platform.api().get('/audit?action=cases.create&limit=2&offset=2').expect(200)).body;
    expect(page1).toMatchObject({ limit: 2, offset: 0 });
    expect(page1.items).toHaveLength(2);
    expect(page2.items.length).toBeGreaterThan(0);
    expect(page2.items[0].id).toBeLessThan(page1.items[1].id);
    expect((await audit(`to=2000-01-01T00:00:00Z`))).toEqual([]);
    for (const bad of ['limit=0', 'limit=1001', 'offset=-1', 'offset=99999999999999999999', 'from=yesterday', 'from=9383109', 'target=', 'unknown=1']) {
      await platform.api().get(`/audit?${bad}`).expect(400);
    }
    const token = await platform.integrationToken('cic-antwerpen');
    await platform.api(token).get('/audit').expect(403);
    await platform.api(token).get('/audit/verification').expect(403);
  });

  it('records a list call without touching the answer: every item goes out as it was', async () => {
    const cics = (await suite.platform.api().get('/cics').expect(200)).body as { id: string }[];
    expect(cics).toHaveLength(11);
    expect(cics.every((c) => typeof c?.id === 'string')).toBe(true);
    const entries = await audit('action=cics.list');
    expect(entries.length).toBeGreaterThan(0);
    expect(entries[0]!.targets).toEqual(expect.arrayContaining(['cic-antwerpen', 'cic-liege']));
  });

  it('does not lose an action whose entry cannot be stored: it is answered, logged whole and counted', async () => {
    const { platform, db } = suite;
    const { deviceId } = await platform.provision('cic-antwerpen');
    // The database refuses this one entry (as an outage would).
    await db.query(`
      CREATE FUNCTION refuse_deactivate_entry() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.action = 'devices.deactivate' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$`);
    await db.query(`CREATE TRIGGER refuse_deactivate_entry BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION refuse_deactivate_entry()`);
    try {
      const failures = await platform.metric('amr_audit_write_failures_total');
      await platform.api().post(`/devices/${deviceId}/deactivate`).expect(200);
      expect((await platform.api().get(`/devices/${deviceId}`).expect(200)).body.active).toBe(false);
      expect(await platform.metric('amr_audit_write_failures_total')).toBe(failures + 1);
      expect(await audit(`target=${deviceId}&action=devices.deactivate`)).toEqual([]);
    } finally {
      await db.query('DROP TRIGGER refuse_deactivate_entry ON audit_entries');
      await db.query('DROP FUNCTION refuse_deactivate_entry()');
    }
  });

  it('is append-only, and its verification finds an entry changed behind the application’s back', async () => {
    const { platform, db } = suite;
    expect((await platform.api().get('/audit/verification').expect(200)).body).toMatchObject({ valid: true, entries: expect.any(Number), head: { id: expect.any(Number) } });
    const [newest] = await audit('limit=1');
    await expect(db.query(`UPDATE audit_entries SET status = 200 WHERE id = $1`, [newest!.id])).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_entries WHERE id = $1`, [newest!.id])).rejects.toThrow(/append-only/);

    const [target] = await audit('action=alarms.accept&limit=1');
    await db.query('ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only');
    try {
      await db.query(`UPDATE audit_entries SET principal = 'admin' WHERE id = $1`, [target!.id]);
    } finally {
      await db.query('ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only');
    }
    const verification = (await platform.api().get('/audit/verification').expect(200)).body;
    expect(verification).toMatchObject({ valid: false, firstInvalid: { id: target!.id, reason: expect.stringMatching(/altered/) } });
    const alarm = target!.targets[0]!;
    const evidence = (await platform.api().get(`/alarms/${alarm}/evidence`).expect(200)).body;
    expect(evidence.audit.verification).toMatchObject({ valid: false, firstInvalid: { id: target!.id } });
  });
});
