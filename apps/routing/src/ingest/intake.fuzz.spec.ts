import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { encodePayload, parseAlarm, parseLoc, parseStatus, type AckMessage, type AlarmMessage } from '@amr/protocol';
import { loadConfig } from '@amr/config';
import { DeviceCommands, Metrics, type DeviceLink, type PlatformEvents, type SmsGateway } from '@amr/runtime';
import { DeviceAcks } from '@amr/alarms';
import { AlarmPipeline } from '../alarms/alarm.pipeline.js';
import type { PressInput, PressStore } from '../alarms/press-store.js';
import { TelemetryService } from '../telemetry/telemetry.service.js';
import type { TelemetryInput, TelemetryStore } from '../telemetry/telemetry-store.js';
import { FUZZ_CASES, FUZZ_SEED, anyAlarmPayload, anyLocPayload, anyStatusPayload, defectiveAlarm, encodings } from '../../../../test/support/payload-arbitraries.js';

/**
 * The device intake under generated payloads: the alarm pipeline and the telemetry service behind
 * the broker's hook, with the database replaced by recorders. For every payload: no exception;
 * every press answered by exactly one ack — `received` after the store for a valid one, `rejected`
 * with a reason (and never a store) for a bad one; positions and heartbeats stored when valid,
 * counted when not. FUZZ_CASES per property (AMR_FUZZ_CASES).
 */
const params = { numRuns: FUZZ_CASES, seed: FUZZ_SEED };
const counts = { presses: 0, received: 0, rejected: 0, telemetry: 0, stored: 0, dropped: 0 };

function intake() {
  const acks: AckMessage[] = [];
  const stored: PressInput[] = [];
  const telemetry: TelemetryInput[] = [];
  const link = { sendAck: async (_d: string, _e: string, ack: AckMessage) => void acks.push(ack), sendCommand: async () => undefined } as unknown as DeviceLink;
  const gateway = { enabled: false } as unknown as SmsGateway;
  const store = {
    store: async (input: PressInput) => {
      stored.push(input);
      const alarm = { id: 'alarm-1', deviceId: input.deviceId, stage: 'received' as const, pressCount: 1, retransmissions: 1, lastSeq: input.press.seq, flags: [] };
      return { kind: 'retransmission' as const, alarm, seq: input.press.seq };
    },
  } as unknown as PressStore;
  const metrics = new Metrics({ processMetrics: false });
  // A device the database does not know: a payload whose bytes tell no encoding is answered in CBOR.
  const none = async () => [];
  const db = { query: none, manager: { query: none } } as unknown as DataSource;
  const pipeline = new AlarmPipeline(loadConfig({}), new DeviceCommands(db, link), store, new DeviceAcks(db, link, gateway), metrics);
  const telemetryStore = { store: async (input: TelemetryInput) => (telemetry.push(input), null) } as unknown as TelemetryStore;
  const telemetryService = new TelemetryService(telemetryStore, { publish: async () => undefined } as unknown as PlatformEvents, metrics);
  return { pipeline, telemetryService, acks, stored, telemetry, metrics };
}

describe('device intake properties', () => {
  // a warning per dropped message is the service's business, not this output's
  beforeAll(() => Logger.overrideLogger(['error']));

  afterAll(() => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
    process.stdout.write(
      `intake fuzz (seed ${FUZZ_SEED}): ${counts.presses} presses → ${counts.received} received, ${counts.rejected} rejected; ` +
        `${counts.telemetry} positions/heartbeats → ${counts.stored} stored, ${counts.dropped} dropped and counted\n`,
    );
  });

  it('answers every press with exactly one ack: received when valid (after the store), rejected with a reason when not', async () => {
    await fc.assert(
      fc.asyncProperty(anyAlarmPayload, async (payload) => {
        counts.presses++;
        const { pipeline, acks, stored } = intake();
        await pipeline.handle('btn-fuzz', payload);
        const parsed = parseAlarm(payload);
        expect(acks).toHaveLength(1);
        const [ack] = acks as [AckMessage];
        if (parsed.ok) {
          counts.received++;
          expect(stored.map((s) => s.press)).toEqual([parsed.message satisfies AlarmMessage]);
          expect(ack).toMatchObject({ stage: 'received', vib: 'short', seq: parsed.message.seq, alarm: 'alarm-1' });
        } else {
          counts.rejected++;
          expect(stored).toHaveLength(0);
          expect(ack).toMatchObject({ stage: 'rejected', vib: 'long', reason: parsed.error.message });
          expect(ack.reason!.length).toBeGreaterThan(0);
          expect(ack.seq).toBe(parsed.seq);
          expect(ack.alarm).toBeUndefined();
        }
      }),
      params,
    );
  });

  it('rejects a press with one broken key and counts it under its code', async () => {
    await fc.assert(
      fc.asyncProperty(defectiveAlarm, encodings, async (defect, encoding) => {
        counts.presses++;
        counts.rejected++;
        const { pipeline, acks, stored, metrics } = intake();
        await pipeline.handle('btn-fuzz', encodePayload(defect.sent, encoding));
        expect(stored).toHaveLength(0);
        expect(acks).toHaveLength(1);
        expect(acks[0]).toMatchObject({ stage: 'rejected', vib: 'long' });
        expect(acks[0]!.seq).toBe(defect.seq);
        expect(acks[0]!.reason!.startsWith(`${defect.field}:`)).toBe(true);
        expect(await metrics.total('amr_device_messages_rejected_total', { channel: 'alarm', code: defect.code })).toBe(1);
      }),
      params,
    );
  });

  it('stores every valid position and heartbeat, drops and counts every bad one, never answers them', async () => {
    await fc.assert(
      fc.asyncProperty(anyLocPayload, anyStatusPayload, async (loc, status) => {
        counts.telemetry += 2;
        const { telemetryService, telemetry, acks, metrics } = intake();
        await telemetryService.onLocation('btn-fuzz', loc);
        await telemetryService.onStatus('btn-fuzz', status);
        const parsedLoc = parseLoc(loc);
        const parsedStatus = parseStatus(status);
        const { seq: _seq, ...position } = parsedLoc.ok ? parsedLoc.message : { seq: 0 };
        expect(telemetry.map((t) => t.kind)).toEqual([parsedLoc.ok ? 'position' : 'seen', parsedStatus.ok ? 'status' : 'seen']);
        if (parsedLoc.ok) expect(telemetry[0]).toMatchObject({ position });
        if (parsedStatus.ok) expect(telemetry[1]).toMatchObject({ status: parsedStatus.message });
        const bad = Number(!parsedLoc.ok) + Number(!parsedStatus.ok);
        counts.dropped += bad;
        counts.stored += 2 - bad;
        expect(await metrics.total('amr_device_messages_rejected_total')).toBe(bad);
        expect(acks).toHaveLength(0);
      }),
      params,
    );
  });
});
