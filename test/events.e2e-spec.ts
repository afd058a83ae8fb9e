import { describe, expect, it } from '@jest/globals';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { SseClient, type SseEvent } from './support/sse.js';
import { eventually } from './support/eventually.js';
import { histogramCount } from './support/metrics.js';
import { EventRetention, EVENT_RETENTION_H } from '../apps/routing/src/events/event-retention.js';

/**
 * The alarm events of a stream that came from the event log, as (event, alarm). The undelivered
 * alarms sent on connecting are not log events: they repeat the id of the message before them (or
 * the one the stream resumed from), so that resuming from any id misses nothing.
 */
function logged(events: readonly SseEvent[], resumedFrom: string): { event: string; alarm: string; id: string }[] {
  const ids = new Set([resumedFrom]);
  return events
    .filter((e) => {
      const fresh = !ids.has(e.id!);
      ids.add(e.id!);
      return fresh && e.event.startsWith('alarm.');
    })
    .map((e) => ({ event: e.event, alarm: e.data.id as string, id: e.id! }));
}

function position(id: string): [bigint, bigint] {
  const [tx, n] = id.split('-');
  return [BigInt(tx!), BigInt(n!)];
}

describe('the event stream: ids, resuming, and delivery', () => {
  const suite = usePlatform();

  it('gives every event an id, and a stream resumed with Last-Event-ID gets exactly what it missed, in order', async () => {
    const { platform } = suite;
    const token = await platform.integrationToken('cic-oost-vlaanderen');
    const first = new SseClient(`${platform.httpUrl}/api/v1/events`, token);
    await first.opened;
    const a = await platform.provision('cic-oost-vlaanderen');
    const b = await platform.provision('cic-oost-vlaanderen');
    const [deviceA, deviceB] = await Promise.all([TestDevice.connect(platform.mqttUrl, a.deviceId, a.secret), TestDevice.connect(platform.mqttUrl, b.deviceId, b.secret)]);
    let resumed: SseClient | undefined;
    try {
      await deviceA.press({ seq: 1 });
      const alarmA = (await deviceA.stage('received', 1)).alarm!;
      const seen = await first.next((e) => e.event === 'alarm.received' && e.data.id === alarmA);
      expect(seen.id).toMatch(/^\d+-\d+$/);
      const lastSeen = first.lastEventId!;
      first.close();

      // While the integration is away: its alarm is accepted, another button is pressed.
      await platform.api(token).post(`/alarms/${alarmA}/accept`).expect(200);
      await deviceB.press({ seq: 1 });
      const alarmB = (await deviceB.stage('received', 1)).alarm!;

      resumed = new SseClient(`${platform.httpUrl}/api/v1/events`, token, { lastEventId: lastSeen });
      await resumed.next((e) => e.event === 'alarm.received' && e.data.id === alarmB && e.id !== undefined);
      await platform.api(token).post(`/alarms/${alarmA}/close`, { outcome: 'false alarm' }).expect(200);
      await resumed.next((e) => e.event === 'alarm.closed' && e.data.id === alarmA);

      const got = logged(resumed.events, lastSeen);
      // Every message carries an id, the alarms pending on connecting too (the position resumed from).
      expect(resumed.events.every((e) => e.id !== undefined)).toBe(true);
      expect(got.map(({ event, alarm }) => [event, alarm])).toEqual([
        ['alarm.accepted', alarmA],
        ['alarm.received', alarmB],
        ['alarm.closed', alarmA],
      ]);
      // Strictly after the id it resumed from, strictly increasing: no repeat, no reordering.
      const positions = [lastSeen, ...got.map((e) => e.id)].map(position);
      for (let i = 1; i < positions.length; i++) {
        const [prev, cur] = [positions[i - 1]!, positions[i]!];
        expect(cur[0] > prev[0] || (cur[0] === prev[0] && cur[1] > prev[1])).toBe(true);
      }
    } finally {
      first.close();
      resumed?.close();
      await Promise.all([deviceA.close(), deviceB.close()]);
    }
  });

  it('times how long each event waited in the log before the streams had it (amr_event_log_delay_seconds)', async () => {
    const { platform } = suite;
    const delays = () => histogramCount(suite, 'amr_event_log_delay_seconds');
    const token = await platform.integrationToken('cic-oost-vlaanderen');
    const stream = new SseClient(`${platform.httpUrl}/api/v1/events`, token);
    await stream.opened;
    const { deviceId, secret } = await platform.provision('cic-oost-vlaanderen');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      const before = await delays();
      await device.press({ seq: 1 });
      const alarm = (await device.stage('received', 1)).alarm!;
      await stream.next((e) => e.event === 'alarm.received' && e.data.id === alarm);
      const after = await delays();
      expect(after.count - before.count).toBeGreaterThanOrEqual(1);
      // a wait, not a clock error: positive and well under the test's own time
      expect(after.sum - before.sum).toBeGreaterThan(0);
      expect(after.sum - before.sum).toBeLessThan(5 * (after.count - before.count));
    } finally {
      stream.close();
      await device.close();
    }
  });

  it('refuses a Last-Event-ID that is not an event id, saying what one looks like', async () => {
    const { platform } = suite;
    const token = await platform.integrationToken('cic-oost-vlaanderen');
    const res = await fetch(`${platform.httpUrl}/api/v1/events`, { headers: { Authorization: `Bearer ${token}`, 'Last-Event-ID': 'yesterday' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/Last-Event-ID must be the id of an event/);
  });

  it('writes the webhook copy of an event with the event itself (the outbox row names its event)', async () => {
    const { platform, db } = suite;
    const created = await platform.api().post('/integrations', { cicId: 'cic-hainaut', name: 'hainaut dispatch', webhookUrl: 'http://127.0.0.1:9/hook' });
    expect(created.status).toBe(201);
    const { deviceId, secret } = await platform.provision('cic-hainaut');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 });
      const { alarm } = await device.stage('received', 1);
      const rows = await eventually(
        () => db.query(
          `SELECT w.event_type, w.event_id, e.type AS logged_type, e.data->>'id' AS alarm_id
             FROM webhook_deliveries w JOIN platform_events e ON e.id = w.event_id
            WHERE w.integration_id = $1`,
          [created.body.id],
        ),
        (r: unknown[]) => r.length > 0,
      );
      expect(rows).toEqual([expect.objectContaining({ event_type: 'alarm.received', logged_type: 'alarm.received', alarm_id: alarm })]);
    } finally {
      await device.close();
    }
  });
  it(`trims the event log to the last ${EVENT_RETENTION_H} hours, and a stream resuming from a trimmed id still gets the open alarms`, async () => {
    const { platform, db } = suite;
    const [old] = await db.query(
      `INSERT INTO platform_events (type, cic_ids, data, at) VALUES ('alert.raised', '{}', '{}', now() - make_interval(hours => $1 + 1)) RETURNING id, tx::text AS tx`,
      [EVENT_RETENTION_H],
    );
    const [recent] = await db.query(`INSERT INTO platform_events (type, cic_ids, data, at) VALUES ('alert.raised', '{}', '{}', now() - interval '1 hour') RETURNING id`);
    const deleted = await platform.running.app.get(EventRetention).sweep();
    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = (await db.query(`SELECT id FROM platform_events WHERE id = ANY($1::bigint[])`, [[old.id, recent.id]])).map((r: { id: string }) => String(r.id));
    expect(left).toEqual([String(recent.id)]);

    const { deviceId, secret } = await platform.provision('cic-limburg');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    await device.press({ seq: 1 });
    const { alarm } = await device.stage('received', 1);
    const stream = new SseClient(`${platform.httpUrl}/api/v1/events`, await platform.integrationToken('cic-limburg'), { lastEventId: `${old.tx}-${old.id}` });
    try {
      await stream.opened;
      await stream.next((e) => e.event.startsWith('alarm.') && e.data.id === alarm);
    } finally {
      stream.close();
      await device.close();
    }
  });
});
