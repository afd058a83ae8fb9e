import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN_TOKEN, BOOT_TIMEOUT_MS, closeDatabase, openTestDatabase } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { SseClient } from './support/sse.js';
import { ChildApp, MAINS, freePort } from './support/processes.js';

const postgresUrl = process.env.TEST_DATABASE_URL || undefined;

/**
 * The README's split start: broker (with the device ingest), routing and API as three processes
 * sharing one PostgreSQL. A press stored by the broker process reaches the SSE stream of the API
 * process through the event log; the API's accept reaches the device through the broker.
 */
(postgresUrl ? describe : describe.skip)(postgresUrl ? 'split processes: broker, routing and API apart' : 'split processes (skipped: set TEST_DATABASE_URL to a PostgreSQL database)', () => {
  const apps: ChildApp[] = [];
  /** The API's /health body when it was found ready. */
  let readyHealth: unknown;
  let env: Record<string, string>;

  beforeAll(async () => {
    await closeDatabase(await openTestDatabase()); // a clean database, migrated
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    env = {
      DATABASE_URL: postgresUrl!,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      AMR_ADMIN_TOKEN: ADMIN_TOKEN,
      AMR_INTERNAL_SECRET: 'split-test-internal-secret-0123456789',
      AMR_NODE_ID: 'split',
    };
    // The broker first: the others reach devices through it.
    apps.push(await ChildApp.spawn(MAINS.broker, env).until((a) => a.output.includes('listening'), 'broker start-up'));
    apps.push(ChildApp.spawn(MAINS.routing, env));
    apps.push(ChildApp.spawn(MAINS.api, env));
    // Ready when the API's /health names the other two processes as its peers and its link to the
    // broker is up (it connects on its own after start-up: until then /health says `degraded`).
    await apps[2]!.until(async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
      if (res.status !== 200) return false;
      const body = (await res.json()) as { status: string; peers: { roles: string[] }[] };
      const roles = body.peers.flatMap((p) => p.roles);
      readyHealth = body;
      return body.status === 'ok' && roles.includes('broker') && roles.includes('routing');
    }, 'API ready with its peers');
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.kill()));
  }, BOOT_TIMEOUT_MS);

  const api = (path: string, token = ADMIN_TOKEN, body?: object) =>
    fetch(`http://127.0.0.1:${env.HTTP_PORT}/api/v1${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('carries a press from the broker process to the API process\'s stream, and the operator\'s accept back to the button', async () => {
    // As the API answered when it was ready (a /health polled that often is rate-limited per address).
    const health = readyHealth;
    expect(health).toMatchObject({ status: 'ok', node: 'split', roles: ['api'], database: 'up', broker: 'up', redis: 'not configured' });

    const json = async (res: Promise<Response>) => (await (await res).json()) as Record<string, string>;
    const { id: caseId } = await json(api('/cases', ADMIN_TOKEN, { homeCicId: 'cic-namur', riskLevel: 'high' }));
    const { deviceId, secret } = await json(api('/devices', ADMIN_TOKEN, { caseId }));
    const { token } = await json(api('/integrations', ADMIN_TOKEN, { cicId: 'cic-namur', name: 'namur' }));
    const stream = new SseClient(`http://127.0.0.1:${env.HTTP_PORT}/api/v1/events`, token!);
    await stream.opened;
    const device = await TestDevice.connect(env.MQTT_URL!, deviceId!, secret!);
    try {
      await device.press({ seq: 1 });
      const { alarm } = await device.stage('received', 1);
      const shown = await stream.next((e) => e.event === 'alarm.received' && e.data.id === alarm, 5000);
      expect(shown.data).toMatchObject({ deviceId, cicId: 'cic-namur', stage: 'received' });

      expect((await api(`/alarms/${alarm}/delivered`, token, {})).status).toBe(200);
      expect((await api(`/alarms/${alarm}/accept`, token, {})).status).toBe(200);
      expect((await device.stage('accepted', 1)).alarm).toBe(alarm);
      await stream.next((e) => e.event === 'alarm.accepted' && e.data.id === alarm);
    } finally {
      stream.close();
      await device.close();
    }
  });

  it('stops a second API on the same port with one clear line', async () => {
    const second = ChildApp.spawn(MAINS.api, env);
    expect(await second.exited).toBe(1);
    const lines = second.output.trim().split('\n').filter((l) => l.startsWith('amr:'));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^amr: Cannot start the HTTP listener on 127.0.0.1:${env.HTTP_PORT}: port ${env.HTTP_PORT} is already in use`))]);
  });
});
