import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deviceTopic, parseCmd } from '@amr/protocol';
import { ADMIN_TOKEN, usePlatform } from './support/platform.js';
import { TestDevice, connectClient } from './support/device.js';
import { eventually } from './support/eventually.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const CLI = fileURLToPath(new URL('../dist/device-sim/src/cli.js', import.meta.url));

describe('devices: administration, health, commands, TLS', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'amr-sim-'));
  const suite = usePlatform({ TLS_CERT: fixture('tls-cert.pem'), TLS_KEY: fixture('tls-key.pem'), MQTTS_PORT: '0' });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  const health = (id: string) => suite.platform.api().get(`/devices/${id}`).expect(200).then((r) => r.body);

  it('reports a device’s health: connection from the broker, battery and firmware from its status', async () => {
    const { deviceId, secret, caseId } = await suite.platform.provision();
    expect(await health(deviceId)).toMatchObject({ id: deviceId, caseId, active: true, connected: false, lastSeenAt: null, heartbeatS: 3600, graceS: 600 });

    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    await eventually(() => health(deviceId), (h) => h.connected === true);
    await device.publishRaw('status', Buffer.from(JSON.stringify({ seq: 1, bat: 42, rsrp: -101, fw: '0.9.3', loc: { lat: 50.85, lon: 4.35, acc: 30, src: 'cell' } })));
    const seen = await eventually(() => health(deviceId), (h) => h.fw === '0.9.3');
    expect(seen).toMatchObject({ battery: 42, rsrp: -101, lastPosition: { lat: 50.85, lon: 4.35, src: 'cell' } });
    expect(Date.parse(seen.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000);

    await device.close();
    await eventually(() => health(deviceId), (h) => h.connected === false);
  });

  it('changes heartbeat settings, and says what is wrong with a bad one', async () => {
    const { deviceId } = await suite.platform.provision();
    expect((await suite.platform.api().patch(`/devices/${deviceId}`, { heartbeatS: 900, graceS: 120 }).expect(200)).body).toMatchObject({ heartbeatS: 900, graceS: 120 });
    expect(await health(deviceId)).toMatchObject({ heartbeatS: 900, graceS: 120 });
    const bad = await suite.platform.api().patch(`/devices/${deviceId}`, { heartbeatS: 5 }).expect(400);
    expect(JSON.stringify(bad.body.message)).toMatch(/heartbeatS must not be less than 60/);
    await suite.platform.api().get('/devices/btn-nobody').expect(404);
  });

  it('delivers a command to a connected device on its cmd topic, in its encoding', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.client.subscribeAsync(deviceTopic(deviceId, 'cmd'), { qos: 1 });
      const arrived = new Promise<Buffer>((resolve) => device.client.on('message', (t, p) => t.endsWith('/cmd') && resolve(p)));
      const res = await suite.platform.api().post(`/devices/${deviceId}/commands`, { cmd: 'config', hb: 900, locEvery: 15 }).expect(201);
      expect(res.body).toMatchObject({ id: expect.any(String), state: 'sent' });
      const parsed = parseCmd(await arrived);
      expect(parsed).toMatchObject({ ok: true, encoding: 'cbor', message: { cmd: 'config', hb: 900, locEvery: 15 } });
      const bad = await suite.platform.api().post(`/devices/${deviceId}/commands`, { cmd: 'self-destruct' }).expect(400);
      expect(bad.body.message).toMatch(/Invalid command: .*cmd/);
    } finally {
      await device.close();
    }
  });

  it('holds a command for an offline device with a persistent session until it reconnects', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const options = { clientId: deviceId, username: deviceId, password: secret, clean: false };
    const first = await connectClient(suite.platform.mqttUrl, options);
    await first.subscribeAsync(deviceTopic(deviceId, 'cmd'), { qos: 1 });
    await first.endAsync();

    await suite.platform.api().post(`/devices/${deviceId}/commands`, { cmd: 'locate' }).expect(201);

    const again = await connectClient(suite.platform.mqttUrl, options);
    try {
      const payload = await new Promise<Buffer>((resolve) => again.on('message', (_t, p) => resolve(p)));
      expect(parseCmd(payload)).toMatchObject({ ok: true, message: { cmd: 'locate' } });
    } finally {
      await again.endAsync();
    }
  });

  it('serves MQTT over TLS when a certificate is configured', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    expect(suite.platform.running.ports.mqtts).toEqual(expect.any(Number));
    const device = await TestDevice.connect(`mqtts://localhost:${suite.platform.running.ports.mqtts}`, deviceId, secret, {
      ca: readFileSync(fixture('tls-cert.pem')),
      rejectUnauthorized: true,
    });
    try {
      await device.press({ seq: 1 });
      expect((await device.stage('received', 1)).vib).toBe('short');
    } finally {
      await device.close();
    }
  });

  it('runs the simulator’s press scenario against the platform, through every stage', async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [
        CLI, 'press', '--api', suite.platform.httpUrl, '--token', ADMIN_TOKEN, '--mqtt', suite.platform.mqttUrl,
        '--operator', '--presses', '2', '--json', '--state-dir', stateDir,
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.summary).toMatchObject({ sent: 2, received: 2, lost: 0, rejected: 0, operatorFailures: 0 });
    for (const press of report.presses) {
      expect(Object.keys(press.stages).sort()).toEqual(['accepted', 'closed', 'dispatched', 'received']);
    }
    expect(result.stderr).toMatch(/received\s+vibration short/);
  });
});
