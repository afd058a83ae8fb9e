import { describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { hashSecretV1 } from '@amr/security';
import { usePlatform } from './support/platform.js';
import { connackCode } from './support/device.js';
import { eventually } from './support/eventually.js';

const NOT_AUTHORIZED = 5;
const SERVER_UNAVAILABLE = 3;
const MAX_FAILURES = 3;

const digestOf = (secret: string) => `sha256$${createHash('sha256').update(secret).digest('hex')}`;

/** Connects as the device with the given password; 0, or the CONNACK return code of a refusal. */
const connectCode = (url: string, deviceId: string, password: string) => connackCode(url, { clientId: deviceId, username: deviceId, password, clean: true });

/** Device secrets (CONTRACT §1): SHA-256 digests, version-1 upgrade, throttling; bulk provisioning (CONTRACT §4). */
describe('device secrets and bulk provisioning', () => {
  const suite = usePlatform({ AMR_AUTH_MAX_FAILURES: String(MAX_FAILURES) });

  const storedHash = async (deviceId: string): Promise<string> => {
    const rows: { secret_hash: string }[] = await suite.db.query(`SELECT secret_hash FROM devices WHERE id = $1`, [deviceId]);
    return rows[0]!.secret_hash;
  };
  const deviceCount = async (): Promise<number> => Number((await suite.db.query(`SELECT count(*) AS n FROM devices`))[0].n);
  const throttled = () => suite.platform.metric('amr_mqtt_connect_refused_total', { reason: 'throttled' });

  it('stores a provisioned or rotated secret as its SHA-256 digest, never the secret', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const stored = await storedHash(deviceId);
    expect(stored).toBe(digestOf(secret));
    expect(stored).not.toContain(secret);
    expect(stored).not.toMatch(/^scrypt\$/);

    const rotated = (await suite.platform.api().post(`/devices/${deviceId}/rotate-secret`).expect(200)).body.secret as string;
    expect(await storedHash(deviceId)).toBe(digestOf(rotated));
    expect(await connectCode(suite.platform.mqttUrl, deviceId, rotated)).toBe(0);
  });

  it('accepts a version-1 scrypt hash and replaces it with the digest at the next successful connect', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const v1 = await hashSecretV1(secret);
    await suite.db.query(`UPDATE devices SET secret_hash = $1 WHERE id = $2`, [v1, deviceId]);

    expect(await connectCode(suite.platform.mqttUrl, deviceId, 'not-the-secret')).toBe(NOT_AUTHORIZED);
    expect(await storedHash(deviceId)).toBe(v1);

    expect(await connectCode(suite.platform.mqttUrl, deviceId, secret)).toBe(0);
    await eventually(() => storedHash(deviceId), (hash) => hash === digestOf(secret));
    expect(await connectCode(suite.platform.mqttUrl, deviceId, secret)).toBe(0);
  });

  describe('bulk provisioning (POST /api/v1/devices/batch)', () => {
    it('provisions 1,000 devices into stock in one request; they are stored and can connect', async () => {
      const res = await suite.platform.api().post('/devices/batch', { count: 1000 }).expect(201);
      const devices = res.body as { deviceId: string; secret: string; caseId?: string }[];
      expect(devices).toHaveLength(1000);
      expect(new Set(devices.map((d) => d.deviceId)).size).toBe(1000);
      expect(new Set(devices.map((d) => d.secret)).size).toBe(1000);
      expect(devices.every((d) => d.caseId === undefined)).toBe(true);

      const rows: { id: string; secret_hash: string; case_id: string | null }[] = await suite.db.query(
        `SELECT id, secret_hash, case_id FROM devices WHERE id = ANY($1)`,
        [devices.map((d) => d.deviceId)],
      );
      const stored = new Map(rows.map((r) => [r.id, r]));
      expect(stored.size).toBe(1000);
      for (const d of devices) expect(stored.get(d.deviceId)).toEqual({ id: d.deviceId, secret_hash: digestOf(d.secret), case_id: null });

      const sample = devices.filter((_, i) => i % 50 === 0);
      const codes = await Promise.all(sample.map((d) => connectCode(suite.platform.mqttUrl, d.deviceId, d.secret)));
      expect(codes).toEqual(sample.map(() => 0));

      const history = (await suite.platform.api().get(`/devices/${devices[0]!.deviceId}/history`).expect(200)).body;
      expect(history.events.map((e: { actor: string; type: string }) => `${e.actor}:${e.type}`)).toEqual(['admin:provisioned']);
    });

    it('provisions one device per case id, the same case several times, granted like a single provisioning', async () => {
      const first = (await suite.platform.api().post('/cases', { homeCicId: 'cic-hainaut' }).expect(201)).body.id as string;
      const second = (await suite.platform.api().post('/cases', { homeCicId: 'cic-namur' }).expect(201)).body.id as string;
      const res = await suite.platform.api().post('/devices/batch', { caseIds: [first, second, first] }).expect(201);
      expect(res.body).toEqual([
        { deviceId: expect.any(String), secret: expect.any(String), caseId: first },
        { deviceId: expect.any(String), secret: expect.any(String), caseId: second },
        { deviceId: expect.any(String), secret: expect.any(String), caseId: first },
      ]);
      const [device] = res.body as { deviceId: string; secret: string }[];
      expect((await suite.platform.api().get(`/devices/${device!.deviceId}`).expect(200)).body).toMatchObject({ caseId: first, supervised: true });
      const history = (await suite.platform.api().get(`/devices/${device!.deviceId}/history`).expect(200)).body;
      expect(history.events.map((e: { type: string }) => e.type)).toEqual(['provisioned', 'assigned']);
      expect(history.events[1].details).toMatchObject({ caseId: first, grantExpiresAt: expect.any(String) });
      expect(await connectCode(suite.platform.mqttUrl, device!.deviceId, device!.secret)).toBe(0);
    });

    it.each([
      ['1,001 devices', { count: 1001 }, /count must be 1 to 1000/],
      ['0 devices', { count: 0 }, /count must be 1 to 1000/],
      ['1,001 case ids', { caseIds: Array.from({ length: 1001 }, () => randomUUID()) }, /at most 1000 entries/],
      ['an empty list of case ids', { caseIds: [] }, /caseIds must not be empty/],
      ['a case id that is not one', { caseIds: ['case-1'] }, /each entry of caseIds must be a case id/],
      ['both count and caseIds', { count: 1, caseIds: [randomUUID()] }, /either count .* or caseIds/],
      ['neither count nor caseIds', {}, /Give count .* or caseIds/],
      ['count, caseIds and grantMonths sent as null', { caseIds: null, count: null, grantMonths: null, msisdns: [] }, /count must be a whole number.*caseIds must be an array of case ids.*grantMonths must be an integer number/],
      ['caseIds sent as null beside count', { count: 2, caseIds: null, msisdns: [] }, /caseIds must be an array of case ids/],
    ])('refuses %s with 400 and says why', async (_name, body, message) => {
      const before = await deviceCount();
      const res = await suite.platform.api().post('/devices/batch', body).expect(400);
      expect(JSON.stringify(res.body.message)).toMatch(message);
      expect(await deviceCount()).toBe(before);
    });

    it('stores nothing when a case id is unknown, and names it', async () => {
      const known = (await suite.platform.api().post('/cases', { homeCicId: 'cic-hainaut' }).expect(201)).body.id as string;
      const unknown = randomUUID();
      const before = await deviceCount();
      const res = await suite.platform.api().post('/devices/batch', { caseIds: [known, known, unknown] }).expect(422);
      expect(res.body.message).toContain(unknown);
      expect(res.body.message).not.toContain(known);
      expect(await deviceCount()).toBe(before);
    });

    it('is for administrators only', async () => {
      const token = await suite.platform.integrationToken('cic-hainaut');
      await suite.platform.api(token).post('/devices/batch', { count: 1 }).expect(403);
    });
  });

  // Last: it puts 127.0.0.1, the address every test connects from, into a back-off.
  it('throttles wrong secrets from an address, yet lets a device with its right secret in during the back-off', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const legacy = await suite.platform.provision();
    await suite.db.query(`UPDATE devices SET secret_hash = $1 WHERE id = $2`, [await hashSecretV1(legacy.secret), legacy.deviceId]);
    const url = suite.platform.mqttUrl;

    // Wrong secrets until the address backs off: at most MAX_FAILURES of them are checked (earlier
    // tests' wrong secrets from this address count too); the next is refused as throttled.
    const before = await throttled();
    let guesses = 0;
    while ((await throttled()) === before) {
      expect(++guesses).toBeLessThanOrEqual(MAX_FAILURES + 1);
      expect(await connectCode(url, deviceId, `guess-${guesses}`)).toBe(NOT_AUTHORIZED);
    }
    expect(await throttled()).toBe(before + 1);
    // In the back-off, the right secret of a digest device still gets in…
    expect(await connectCode(url, deviceId, secret)).toBe(0);
    // …a version-1 hash is not checked (no scrypt) and the device is told to come back…
    expect(await connectCode(url, legacy.deviceId, legacy.secret)).toBe(SERVER_UNAVAILABLE);
    // …and the back-off is still running: the device got in during it, not once it was over.
    expect(await connectCode(url, deviceId, 'guess-once-more')).toBe(NOT_AUTHORIZED);
    expect(await throttled()).toBe(before + 3);
    expect(await storedHash(legacy.deviceId)).toMatch(/^scrypt\$/);
  });
});
