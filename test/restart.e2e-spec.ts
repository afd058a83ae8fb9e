import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@amr/persistence';
import { BOOT_TIMEOUT_MS, closeDatabase, openTestDatabase, startTestPlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { SseClient } from './support/sse.js';

/**
 * Nothing lost across a restart: the alarm store is the database, so a press retransmitted after
 * the platform came back gets the same alarm id, and the alarm's stage is still known.
 */
describe('a platform restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'amr-restart-'));
  const reopen = () => openDatabase({ url: process.env.TEST_DATABASE_URL || undefined, dataDir });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps alarms, and recognises a retransmitted press afterwards', async () => {
    // First life: a press is stored and accepted.
    let db = await openTestDatabase(dataDir);
    let platform = await startTestPlatform(db);
    const { deviceId, secret } = await platform.provision();
    let device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    await device.press({ seq: 41, ts: 1_790_000_000 });
    const first = await device.stage('received', 41);
    await platform.api().post(`/alarms/${first.alarm}/accept`).expect(200);
    await device.stage('accepted');
    await device.close();
    await platform.close();
    await closeDatabase(db);

    // Second life, from what is on disk (or in PostgreSQL).
    db = await reopen();
    platform = await startTestPlatform(db);
    try {
      device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
      await device.press({ seq: 41, ts: 1_790_000_000 });
      const again = await device.stage('received', 41);
      expect(again.alarm).toBe(first.alarm);
      // It was accepted before the restart, and the device is told so again.
      expect((await device.ack((a) => a.stage === 'accepted' && a.seq === 41)).alarm).toBe(first.alarm);
      const view = (await platform.api().get(`/alarms/${first.alarm}`).expect(200)).body;
      expect(view).toMatchObject({ stage: 'accepted', pressCount: 1 });
      const alarms = (await platform.api().get('/alarms').expect(200)).body as { deviceId: string }[];
      expect(alarms.filter((a) => a.deviceId === deviceId)).toHaveLength(1);
      await device.close();
    } finally {
      await platform.close();
      await closeDatabase(db);
    }
  }, BOOT_TIMEOUT_MS);

  it('shuts down with event streams open: it ends them rather than waiting for their clients', async () => {
    const db = await openTestDatabase();
    const platform = await startTestPlatform(db);
    const streams: SseClient[] = [];
    try {
      const token = await platform.integrationToken('cic-antwerpen');
      for (let i = 0; i < 2; i++) streams.push(new SseClient(`${platform.httpUrl}/api/v1/events`, token));
      await Promise.all(streams.map((s) => s.opened));
      const started = Date.now();
      await platform.close();
      await Promise.all(streams.map((s) => s.ended));
      // the HTTP server's close waited for the open streams until the clients left (forever, here)
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      streams.forEach((s) => s.close());
      await closeDatabase(db);
    }
  }, BOOT_TIMEOUT_MS);
});
