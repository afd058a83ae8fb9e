import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFailover, startCluster, type Cluster } from '../device-sim/src/index.js';
import { BOOT_TIMEOUT_MS, closeDatabase, openTestDatabase } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { SseClient } from './support/sse.js';

const postgresUrl = process.env.TEST_DATABASE_URL || undefined;
const redisUrl = process.env.TEST_REDIS_URL || undefined;
const title = (what: string) => (postgresUrl && redisUrl ? what : `${what} (skipped: set TEST_DATABASE_URL and TEST_REDIS_URL)`);

/**
 * Several full nodes on one PostgreSQL and one Redis, as `npm run cluster` starts them, and one
 * of them killed with SIGKILL in the middle of an alarm.
 */
(postgresUrl && redisUrl ? describe : describe.skip)(title('a node lost mid-alarm'), () => {
  let cluster: Cluster;

  beforeAll(async () => {
    await closeDatabase(await openTestDatabase()); // a clean database, migrated
    cluster = await startCluster({
      nodes: 2,
      databaseUrl: postgresUrl!,
      redisUrl: redisUrl!,
      httpBase: 0,
      mqttBase: 0,
      // A namespace of its own in the shared Redis.
      env: { PATH: process.env.PATH ?? '', AMR_REDIS_PREFIX: `amr-test-${randomBytes(4).toString('hex')}:` },
    });
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.close();
  }, BOOT_TIMEOUT_MS);

  const api = async (node: number, path: string, token = cluster.adminToken, body?: object) => {
    const res = await fetch(`${cluster.nodes[node]!.apiUrl}/api/v1${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  it('stores the press on one node, shows it on the other\'s stream, and brings the `accepted` given while the first is dead through the second', async () => {
    const [one, two] = cluster.nodes;
    const created = await api(0, '/cases', cluster.adminToken, { homeCicId: 'cic-brussels', riskLevel: 'critical' });
    expect(created.status).toBe(201);
    const { body: device } = await api(0, '/devices', cluster.adminToken, { caseId: created.body.id });
    const made = await api(1, '/integrations', cluster.adminToken, { cicId: 'cic-brussels', name: 'brussels' });
    expect(made).toMatchObject({ status: 201, body: { token: expect.any(String) } });
    const integration = made.body;
    const stream = new SseClient(`${two!.apiUrl}/api/v1/events`, integration.token!);
    await stream.opened;
    const button = await TestDevice.connect(one!.mqttUrl, device.deviceId!, device.secret!, { clean: false, reconnectPeriod: 0 });
    let moved: TestDevice | undefined;
    try {
      await button.press({ seq: 1 });
      const { alarm } = await button.stage('received', 1);
      const shown = await stream.next((e) => e.event === 'alarm.received' && e.data.id === alarm);
      expect(shown.data).toMatchObject({ deviceId: device.deviceId, cicId: 'cic-brussels' });

      await one!.kill(); // the button's node dies; the CIC works the alarm on the other
      expect((await api(1, `/alarms/${alarm}/delivered`, integration.token, {})).status).toBe(200);
      expect((await api(1, `/alarms/${alarm}/accept`, integration.token, {})).status).toBe(200);

      // The button moves to its next endpoint with its session: the `accepted` waits there for it.
      moved = await TestDevice.connect(two!.mqttUrl, device.deviceId!, device.secret!, { clean: false, reconnectPeriod: 0 });
      expect((await moved.stage('accepted', 1, 10_000)).alarm).toBe(alarm);
      const health = (await (await fetch(`${two!.apiUrl}/health`)).json()) as { node: string; redis: string };
      expect(health).toMatchObject({ node: two!.id, redis: 'up' });
    } finally {
      stream.close();
      await button.close().catch(() => undefined);
      await moved?.close();
      await one!.start();
    }
  });

  it('lists every other live process of the deployment in /health', async () => {
    const res = await fetch(`${cluster.nodes[0]!.apiUrl}/health`);
    const health = (await res.json()) as { node: string; peers: { nodeId: string; roles: string[] }[]; database: string; redis: string };
    expect(res.status).toBe(200);
    expect(health).toMatchObject({ node: cluster.nodes[0]!.id, database: 'up', redis: 'up' });
    expect(health.peers).toEqual([expect.objectContaining({ nodeId: cluster.nodes[1]!.id, roles: ['broker', 'routing', 'api'] })]);
  });
});

(postgresUrl ? describe : describe.skip)(postgresUrl ? 'a short failover run' : 'a short failover run (skipped: set TEST_DATABASE_URL)', () => {
  let stateDir: string;
  beforeAll(async () => {
    await closeDatabase(await openTestDatabase());
    stateDir = await mkdtemp(join(tmpdir(), 'amr-failover-test-'));
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('loses and duplicates no press while the nodes are killed in turn', async () => {
    // Two nodes, a Redis of the scenario's own, 40 devices, a node killed every 10 s (each node is
    // back before the other goes: with both down at once the buttons' back-off outlasts the run).
    const result = await runFailover({ databaseUrl: postgresUrl!, devices: 40, presses: 200, rate: 8, killEveryS: 10, stateDir, operator: { acceptMs: 300, closeMs: 500 } });
    const f = result.failover;
    expect(f.kills.length).toBeGreaterThanOrEqual(2);
    expect({ sent: f.sent, received: f.received, lost: f.lost, duplicated: f.duplicated, extraAlarms: f.extraAlarms }).toEqual({
      sent: 200, received: 200, lost: 0, duplicated: 0, extraAlarms: 0,
    });
    // Every accepted alarm's device felt `accepted`, or — when the operator closed it while the
    // device was reconnecting — was told it is closed: no button is left believing it is unanswered.
    expect(f.accepted.seenByDevices + f.accepted.closedWithoutAccepted).toBe(f.accepted.sent);
    expect(result.ok).toBe(true);
  }, 240_000);
});
