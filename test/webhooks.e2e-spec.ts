import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { CaseRead, openDatabase } from '@amr/persistence';
import { verifyWebhookSignature } from '@amr/alarms';
import { BOOT_TIMEOUT_MS, closeDatabase, openTestDatabase, startTestPlatform, type TestPlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { eventually } from './support/eventually.js';

/** Short retries, so that a suite sees several attempts in well under a second. */
const FAST = { AMR_WEBHOOK_RETRY_DELAYS_MS: '50,100,250', AMR_WEBHOOK_MAX_ATTEMPTS: '100', AMR_WEBHOOK_TIMEOUT_MS: '2000' };

function startWithWebhooks(db: DataSource): Promise<TestPlatform> {
  return startTestPlatform(db, FAST);
}

interface Delivery {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly event: { id: string; type: string; createdAt: string; data: Record<string, any> };
  /** The HTTP status the receiver answered. */
  answered?: number;
}

/** A CIC's webhook endpoint: a real HTTP server that records every request and answers `status(n)`. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  status: (delivery: Delivery, n: number) => number = () => 200;
  private waiters: { match: (d: Delivery) => boolean; resolve: (d: Delivery) => void }[] = [];

  private constructor(private readonly server: Server) {}

  static async start(port = 0): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const delivery: Delivery = { headers: req.headers, body, event: JSON.parse(body) };
        receiver.deliveries.push(delivery);
        delivery.answered = receiver.status(delivery, receiver.deliveries.length);
        res.writeHead(delivery.answered).end('{"note":"test receiver"}');
        receiver.waiters = receiver.waiters.filter((w) => (w.match(delivery) ? (w.resolve(delivery), false) : true));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/amr/webhook`;
  }

  /** Resolves with the first request (already received or arriving) that matches. */
  next(match: (d: Delivery) => boolean, timeoutMs = 10_000): Promise<Delivery> {
    const seen = this.deliveries.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching webhook within ${timeoutMs} ms; got ${this.deliveries.map((d) => d.event.type).join(', ')}`)), timeoutMs);
      this.waiters.push({ match, resolve: (d) => (clearTimeout(timer), resolve(d)) });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const nowS = () => Math.floor(Date.now() / 1000);

describe('webhooks to a CIC integration', () => {
  let db: DataSource;
  let platform: TestPlatform;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    db = await openTestDatabase();
    platform = await startWithWebhooks(db);
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    await platform?.close();
    if (db) await closeDatabase(db);
  }, BOOT_TIMEOUT_MS);
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  async function integrate(cicId: string): Promise<{ receiver: Receiver; id: string; token: string; webhookSecret: string }> {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const res = await platform.api().post('/integrations', { cicId, name: `${cicId} console`, webhookUrl: receiver.url }).expect(201);
    expect(res.body.webhookSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return { receiver, id: res.body.id, token: res.body.token, webhookSecret: res.body.webhookSecret };
  }

  async function press(cicId: string, seq: number): Promise<{ alarmId: string; caseId: string }> {
    const { deviceId, secret, caseId } = await platform.provision(cicId, { responderNotes: 'door code 4512' });
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq, ts: 1_790_000_000 });
      return { alarmId: (await device.stage('received', seq)).alarm!, caseId };
    } finally {
      await device.close();
    }
  }

  it('POSTs a press to the CIC signed with its secret, and the alarm then counts as delivered', async () => {
    const { receiver, id, token, webhookSecret } = await integrate('cic-antwerpen');
    const { alarmId, caseId } = await press('cic-antwerpen', 1);

    const got = await receiver.next((d) => d.event.type === 'alarm.received' && d.event.data.id === alarmId);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-amr-event-type']).toBe('alarm.received');
    expect(got.headers['x-amr-event-id']).toBe(got.event.id);
    expect(got.event.data).toMatchObject({ id: alarmId, caseId, cicId: 'cic-antwerpen', stage: 'received', case: { riskLevel: 'high', responderNotes: 'door code 4512' } });
    expect(Math.abs(Date.parse(got.event.createdAt) - Date.now())).toBeLessThan(60_000);

    // What a receiver checks: the signature of the exact bytes, made within the replay window.
    const signature = got.headers['x-amr-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(webhookSecret, signature, got.body, nowS())).toMatchObject({ ok: true });
    const tampered = got.body.replace('"received"', '"receivee"');
    expect(verifyWebhookSignature(webhookSecret, signature, tampered, nowS())).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(webhookSecret, signature, got.body, nowS() + 301)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature('someone-elses-secret', signature, got.body, nowS())).toEqual({ ok: false, reason: 'mismatch' });

    // The 2xx is the hand-over: the alarm's timeline records it, and the case read is on record.
    const view = await eventually(
      async () => (await platform.api(token).get(`/alarms/${alarmId}`).expect(200)).body,
      (v) => v.timeline.some((t: { event?: string }) => t.event === 'delivered'),
    );
    expect(view.timeline.find((t: { event?: string }) => t.event === 'delivered')).toMatchObject({ via: 'webhook', integrationId: id });
    const reads = await db.getRepository(CaseRead).find({ where: { integrationId: id, via: 'webhook' } });
    expect(reads.map((r) => r.alarmId)).toContain(alarmId);

    // The integration can see its own deliveries; another integration cannot.
    const own = (await platform.api(token).get(`/integrations/${id}/deliveries`).expect(200)).body;
    expect(own).toEqual([expect.objectContaining({ id: got.event.id, eventType: 'alarm.received', state: 'delivered', attempts: 1, lastError: null })]);
    const stranger = await platform.integrationToken('cic-antwerpen');
    await platform.api(stranger).get(`/integrations/${id}/deliveries`).expect(404);
  });

  it('retries a failing receiver with the same event id until it answers 2xx', async () => {
    const { receiver, id } = await integrate('cic-limburg');
    receiver.status = (_, n) => (n <= 2 ? 500 : 200);
    const { alarmId } = await press('cic-limburg', 1);

    await receiver.next(() => receiver.deliveries.length >= 3);
    const third = receiver.deliveries[2]!;
    const ids = receiver.deliveries.map((d) => d.headers['x-amr-event-id']);
    expect(ids).toEqual([third.event.id, third.event.id, third.event.id]);
    expect(new Set(receiver.deliveries.map((d) => d.body)).size).toBe(1);
    expect(third.event.data.id).toBe(alarmId);

    const [delivery] = await eventually(
      async () => (await platform.api().get(`/integrations/${id}/deliveries`).expect(200)).body,
      (list) => list[0]?.state === 'delivered',
    );
    expect(delivery).toMatchObject({ id: third.event.id, state: 'delivered', attempts: 3, lastError: expect.stringContaining('HTTP 500') });
    expect(delivery.deliveredAt).toEqual(expect.any(String));
  });

  it('keeps each integration\'s events in order: event n+1 waits until event n is delivered', async () => {
    const { receiver, id } = await integrate('cic-oost-vlaanderen');
    let accepted = false;
    receiver.status = (d) => (d.event.type === 'alarm.received' && !accepted ? 503 : 200);
    const { alarmId } = await press('cic-oost-vlaanderen', 1);
    await receiver.next((d) => d.event.type === 'alarm.received');
    await platform.api().post(`/alarms/${alarmId}/accept`).expect(200);
    // Both events are in the outbox before the receiver recovers.
    await eventually(async () => (await platform.api().get(`/integrations/${id}/deliveries`).expect(200)).body, (l) => l.length === 2);
    accepted = true;

    await receiver.next((d) => d.event.type === 'alarm.accepted');
    const types = receiver.deliveries.map((d) => `${d.event.type}:${d.answered}`);
    expect(types.at(-1)).toBe('alarm.accepted:200');
    expect(types.filter((t) => t.startsWith('alarm.accepted'))).toHaveLength(1);
    expect(types.at(-2)).toBe('alarm.received:200');
  });

  it('manages the webhook of an integration through the API, never showing secrets again', async () => {
    const api = platform.api();
    const created = (await api.post('/integrations', { cicId: 'cic-namur', name: 'Namur console' }).expect(201)).body;
    expect(created.webhookSecret).toBeUndefined();
    const bad = await api.post('/integrations', { cicId: 'cic-namur', name: 'x', webhookUrl: 'ftp://cic.example.be/hook' }).expect(400);
    expect(JSON.stringify(bad.body)).toContain('http:// or https://');

    const set = (await api.patch(`/integrations/${created.id}`, { webhookUrl: 'https://cic-namur.example.be/hook' }).expect(200)).body;
    expect(set).toMatchObject({ id: created.id, webhookUrl: 'https://cic-namur.example.be/hook', webhookSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const rotated = (await api.post(`/integrations/${created.id}/rotate-webhook-secret`).expect(200)).body;
    expect(rotated.webhookSecret).not.toBe(set.webhookSecret);

    const listed = (await api.get('/integrations').expect(200)).body as Record<string, unknown>[];
    const mine = listed.find((i) => i.id === created.id);
    expect(mine).toEqual({ id: created.id, cicId: 'cic-namur', name: 'Namur console', webhookUrl: 'https://cic-namur.example.be/hook', createdAt: expect.any(String), revokedAt: null });
    expect(JSON.stringify(listed)).not.toMatch(/secret|tokenHash/i);

    await platform.api(created.token).get('/integrations').expect(403);
    const revoked = (await api.post(`/integrations/${created.id}/revoke`).expect(200)).body;
    expect(revoked.revokedAt).toEqual(expect.any(String));
    await platform.api(created.token).get('/alarms').expect(401);
    await api.patch(`/integrations/${created.id}`, { webhookUrl: null }).expect(409);
  });
});

describe('webhooks across a platform restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'amr-webhooks-'));
  const reopen = () => openDatabase({ url: process.env.TEST_DATABASE_URL || undefined, dataDir });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('sends a delivery still pending at shutdown after the restart, with its original id', async () => {
    // A port with nobody listening: connection refused until the receiver comes up.
    const probe = await Receiver.start();
    const port = probe.port;
    await probe.close();

    // First life: the press is stored, its webhook cannot be delivered.
    let db = await openTestDatabase(dataDir);
    let platform = await startWithWebhooks(db);
    const created = (await platform.api().post('/integrations', { cicId: 'cic-hainaut', name: 'Hainaut', webhookUrl: `http://127.0.0.1:${port}/hook` }).expect(201)).body;
    const { deviceId, secret } = await platform.provision('cic-hainaut');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    await device.press({ seq: 5, ts: 1_790_000_000 });
    const alarmId = (await device.stage('received', 5)).alarm!;
    await device.close();
    const [pending] = await eventually(
      async () => (await platform.api().get(`/integrations/${created.id}/deliveries`).expect(200)).body,
      (list) => list[0]?.attempts >= 1 && list[0]?.lastError !== null,
    );
    expect(pending).toMatchObject({ eventType: 'alarm.received', state: 'pending', lastError: expect.stringContaining('connection refused') });
    await platform.close();
    await closeDatabase(db);

    // Second life, from what is on disk (or in PostgreSQL); the CIC's endpoint is back.
    db = await reopen();
    platform = await startWithWebhooks(db);
    const receiver = await Receiver.start(port);
    try {
      const got = await receiver.next((d) => d.event.type === 'alarm.received');
      expect(got.headers['x-amr-event-id']).toBe(pending.id);
      expect(got.event).toMatchObject({ id: pending.id, data: { id: alarmId } });
      expect(verifyWebhookSignature(created.webhookSecret, got.headers['x-amr-signature'] as string, got.body, nowS()).ok).toBe(true);
      const [done] = await eventually(
        async () => (await platform.api().get(`/integrations/${created.id}/deliveries`).expect(200)).body,
        (list) => list[0]?.state === 'delivered',
      );
      expect(done.attempts).toBeGreaterThan(pending.attempts);
      expect(receiver.deliveries).toHaveLength(1);
    } finally {
      await receiver.close();
      await platform.close();
      await closeDatabase(db);
    }
  }, BOOT_TIMEOUT_MS);
});
