import { describe, expect, it } from '@jest/globals';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { eventually } from './support/eventually.js';

/** The fleet through the admin API: stock, grants, history, lists, alert acknowledgement. */
describe('fleet: device lifecycle, history, lists, alert acknowledgement', () => {
  const suite = usePlatform({ AMR_SUPERVISION_SWEEP_MS: '100', AMR_GRANT_MONTHS: '6' });
  const api = () => suite.platform.api();
  const newCase = (homeCicId = 'cic-hainaut') => api().post('/cases', { homeCicId }).expect(201).then((r) => r.body.id as string);

  it('registers a button in stock with its hardware identity, assigns it with a six-month grant, renews and unassigns it, recording who and when', async () => {
    const created = (await api().post('/devices', { imei: '356938035643809', iccid: '8932030000000000012', model: 'AMR-B1', fw: '1.0.0' }).expect(201)).body;
    expect(created).toMatchObject({ deviceId: expect.any(String), secret: expect.any(String), caseId: null });
    const id = created.deviceId as string;
    expect((await api().get(`/devices/${id}`).expect(200)).body).toMatchObject({
      id, caseId: null, imei: '356938035643809', iccid: '8932030000000000012', model: 'AMR-B1', fw: '1.0.0', supervised: false, grantExpiresAt: null,
    });
    await api().post('/devices', { imei: '356938035643809' }).expect(409);
    await api().post('/devices', { imei: '12345' }).expect(400);

    const caseId = await newCase();
    const assigned = (await api().post(`/devices/${id}/assign`, { caseId }).expect(200)).body;
    const months = (Date.parse(assigned.grantExpiresAt) - Date.parse(assigned.assignedAt)) / (30.44 * 24 * 3600 * 1000);
    expect(assigned).toMatchObject({ caseId, supervised: true });
    expect(Math.round(months)).toBe(6);
    await api().post(`/devices/${id}/assign`, { caseId: await newCase() }).expect(409);

    const renewed = (await api().post(`/devices/${id}/renew`, { months: 3 }).expect(200)).body;
    expect(Math.round((Date.parse(renewed.grantExpiresAt) - Date.parse(assigned.grantExpiresAt)) / (30.44 * 24 * 3600 * 1000))).toBe(3);

    const unassigned = (await api().post(`/devices/${id}/unassign`).expect(200)).body;
    expect(unassigned).toMatchObject({ caseId: null, grantExpiresAt: null, supervised: false });
    await api().post(`/devices/${id}/renew`).expect(409);

    const history = (await api().get(`/devices/${id}/history`).expect(200)).body;
    expect(history.events.map((e: { type: string; actor: string }) => `${e.actor}:${e.type}`)).toEqual([
      'admin:provisioned', 'admin:assigned', 'admin:renewed', 'admin:unassigned',
    ]);
    expect(history.events[1].details).toMatchObject({ caseId, grantExpiresAt: assigned.grantExpiresAt });
    expect(history.events.every((e: { at: string }) => !Number.isNaN(Date.parse(e.at)))).toBe(true);
  });

  it('keeps every status report in the device’s history, with settings, deactivation and rotation', async () => {
    const { deviceId, secret } = await suite.platform.provision('cic-hainaut');
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    await device.publishRaw('status', Buffer.from(JSON.stringify({ seq: 1, ts: 1_790_000_000, bat: 70, rsrp: -98, fw: '1.0.1' })));
    await device.publishRaw('status', Buffer.from(JSON.stringify({ seq: 2, bat: 69, loc: { lat: 50.45, lon: 3.95, acc: 20, src: 'gnss' } })));
    await eventually(() => api().get(`/devices/${deviceId}/history`).then((r) => r.body.statusReports), (r) => r.length === 2);
    await device.close();
    await api().patch(`/devices/${deviceId}`, { heartbeatS: 900 }).expect(200);
    await api().post(`/devices/${deviceId}/rotate-secret`).expect(200);
    await api().post(`/devices/${deviceId}/deactivate`).expect(200);

    const history = (await api().get(`/devices/${deviceId}/history`).expect(200)).body;
    expect(history.statusReports).toEqual([
      expect.objectContaining({ seq: 2, battery: 69, position: expect.objectContaining({ lat: 50.45, src: 'gnss' }) }),
      expect.objectContaining({ seq: 1, ts: 1_790_000_000, battery: 70, rsrp: -98, fw: '1.0.1' }),
    ]);
    expect(history.events.map((e: { type: string }) => e.type)).toEqual(['provisioned', 'assigned', 'settings', 'command', 'secret-rotated', 'deactivated']);
    // the new heartbeat interval went to the button as `config hb`
    const commands = (await api().get(`/devices/${deviceId}/commands`).expect(200)).body;
    expect(commands[0]).toMatchObject({ body: { cmd: 'config', hb: 900 } });
  });

  it('lists the fleet by case, CIC, connection, battery, silence and grant, in pages', async () => {
    const a = await suite.platform.provision('cic-luxembourg');
    const b = await suite.platform.provision('cic-luxembourg');
    const c = await suite.platform.provision('cic-brussels');
    await suite.db.query(`UPDATE devices SET battery = 15 WHERE id = $1`, [a.deviceId]);
    await suite.db.query(`UPDATE devices SET grant_expires_at = now() - interval '1 day' WHERE id = $1`, [c.deviceId]);
    const online = await TestDevice.connect(suite.platform.mqttUrl, b.deviceId, b.secret);
    try {
      const ids = (query: string) => api().get(`/devices?${query}`).expect(200).then((r) => r.body.items.map((d: { id: string }) => d.id));
      expect(await ids('cicId=cic-luxembourg')).toEqual([a.deviceId, b.deviceId].sort());
      expect(await ids(`caseId=${a.caseId}`)).toEqual([a.deviceId]);
      expect(await ids('cicId=cic-luxembourg&batteryBelow=20')).toEqual([a.deviceId]);
      await eventually(() => ids('cicId=cic-luxembourg&online=true'), (v) => v.length === 1 && v[0] === b.deviceId);
      expect(await ids('cicId=cic-luxembourg&online=false')).toEqual([a.deviceId]);
      expect(await ids('cicId=cic-brussels&grant=expired')).toEqual([c.deviceId]);
      expect(await ids('cicId=cic-luxembourg&silent=false')).toEqual([a.deviceId, b.deviceId].sort());
      const page = (await api().get('/devices?cicId=cic-luxembourg&limit=1&offset=1').expect(200)).body;
      expect(page).toMatchObject({ total: 2, limit: 1, offset: 1, items: [expect.objectContaining({ id: [a.deviceId, b.deviceId].sort()[1] })] });
      expect((await api().get(`/devices/${c.deviceId}`).expect(200)).body).toMatchObject({ supervised: false });
      await api().get('/devices?online=maybe').expect(400);
    } finally {
      await online.close();
    }
  });

  it('an expired grant is not supervised: its open alerts are cleared and no new one is raised', async () => {
    const { deviceId } = await suite.platform.provision('cic-brabant-wallon');
    await suite.db.query(`UPDATE devices SET battery = 5 WHERE id = $1`, [deviceId]);
    const alerts = () => api().get(`/alerts?deviceId=${deviceId}`).then((r) => r.body);
    await eventually(alerts, (v) => v.length === 1 && v[0].type === 'low-battery' && v[0].clearedAt === null);
    await suite.db.query(`UPDATE devices SET grant_expires_at = now() WHERE id = $1`, [deviceId]);
    const [cleared] = await eventually(alerts, (v) => v[0]?.clearedAt !== null);
    expect(cleared.details).toMatchObject({ clearedBecause: 'not-supervised' });
  });

  it('lets an operator of the case’s CIC acknowledge a technical alert, which stays open; other CICs do not see it', async () => {
    const { deviceId } = await suite.platform.provision('cic-west-vlaanderen');
    await suite.db.query(`UPDATE devices SET battery = 3 WHERE id = $1`, [deviceId]);
    const [alert] = await eventually(() => api().get(`/alerts?state=open&type=low-battery&deviceId=${deviceId}`).then((r) => r.body), (v) => v.length === 1);
    const own = suite.platform.api(await suite.platform.integrationToken('cic-west-vlaanderen'));
    const other = suite.platform.api(await suite.platform.integrationToken('cic-limburg'));
    await other.post(`/alerts/${alert.id}/acknowledge`).expect(404);
    expect((await other.get('/alerts?state=open').expect(200)).body.filter((a: { deviceId: string }) => a.deviceId === deviceId)).toEqual([]);
    const acked = (await own.post(`/alerts/${alert.id}/acknowledge`).expect(200)).body;
    expect(acked).toMatchObject({ id: alert.id, clearedAt: null, acknowledgedBy: expect.stringMatching(/^integration:/), acknowledgedAt: expect.any(String) });
    // a second acknowledgement keeps the first
    expect((await api().post(`/alerts/${alert.id}/acknowledge`).expect(200)).body).toMatchObject({ acknowledgedBy: acked.acknowledgedBy });
    expect((await own.get(`/alerts?state=open&deviceId=${deviceId}`).expect(200)).body).toEqual([expect.objectContaining({ id: alert.id })]);
    await api().post('/alerts/not-a-uuid/acknowledge').expect(400);
  });

  it('sets the heartbeat per case: new grants inherit it, and changing it reaches every button of the case', async () => {
    const { platform } = suite;
    const created = await platform.api().post('/cases', { homeCicId: 'cic-namur', heartbeatS: 900, graceS: 120 }).expect(201);
    expect(created.body).toMatchObject({ heartbeatS: 900, graceS: 120 });
    const caseId = created.body.id as string;
    const inherited = (await platform.api().post('/devices', { caseId }).expect(201)).body.deviceId as string;
    const own = (await platform.api().post('/devices', { caseId, heartbeatS: 7200 }).expect(201)).body.deviceId as string;
    expect((await platform.api().get(`/devices/${inherited}`).expect(200)).body).toMatchObject({ heartbeatS: 900, graceS: 120 });
    expect((await platform.api().get(`/devices/${own}`).expect(200)).body).toMatchObject({ heartbeatS: 7200, graceS: 120 });

    await platform.api().patch(`/cases/${caseId}`, { heartbeatS: 1800 }).expect(200);
    for (const id of [inherited, own]) {
      expect((await platform.api().get(`/devices/${id}`).expect(200)).body.heartbeatS).toBe(1800);
      const commands = (await platform.api().get(`/devices/${id}/commands`).expect(200)).body as { body?: unknown; cmd?: unknown }[];
      expect(JSON.stringify(commands)).toContain('"hb":1800');
    }
    const bad = await platform.api().patch(`/cases/${caseId}`, { heartbeatS: 0 }).expect(400);
    expect(JSON.stringify(bad.body.message)).toMatch(/heartbeatS/);
  });
});
