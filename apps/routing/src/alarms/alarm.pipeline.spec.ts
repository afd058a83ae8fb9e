import { describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { encodePayload, parseAck, smsKey, type AckMessage, type Encoding } from '@amr/protocol';
import { loadConfig } from '@amr/config';
import { DeviceCommands, Metrics, type DeviceLink, type SmsGateway } from '@amr/runtime';
import { DeviceAcks } from '@amr/alarms';
import { AlarmPipeline } from './alarm.pipeline.js';
import type { PressStore } from './press-store.js';

/** A DeviceLink that records what the button would have been sent. */
function recordingLink() {
  const sent: { deviceId: string; encoding: Encoding; ack: AckMessage }[] = [];
  const link = {
    sendAck: async (deviceId: string, encoding: Encoding, ack: AckMessage) => void sent.push({ deviceId, encoding, ack }),
    sendCommand: async () => undefined,
  } as unknown as DeviceLink;
  return { link, sent };
}

/** An SMS gateway that records the texts it was given. */
function recordingGateway() {
  const texts: { to: string; text: string }[] = [];
  const gateway = { enabled: true, post: async (to: string, text: string) => (texts.push({ to, text }), { sent: true }) } as unknown as SmsGateway;
  return { gateway, texts };
}

function pipelineWith(store: Pick<PressStore, 'store'>, link: DeviceLink, metrics = new Metrics({ processMetrics: false }), gateway = recordingGateway().gateway) {
  const acks = new DeviceAcks({} as DataSource, link, gateway);
  return new AlarmPipeline(loadConfig({}), new DeviceCommands({} as DataSource, link), store as PressStore, acks, metrics);
}

const KEY = smsKey('k7Qm2xV9pL4sT8wZ1cR6nB3yH5jD0fGa');

describe(AlarmPipeline.name, () => {
  it('answers `rejected`, never `received`, when the press could not be stored', async () => {
    const { link, sent } = recordingLink();
    const store = { store: jest.fn(async () => { throw new Error('connection terminated'); }) };
    const metrics = new Metrics({ processMetrics: false });
    await pipelineWith(store, link, metrics).handle('btn-1', encodePayload({ seq: 9 }, 'json'));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ deviceId: 'btn-1', encoding: 'json', ack: { stage: 'rejected', vib: 'long', seq: 9 } });
    expect(sent[0]!.ack.reason).toMatch(/press again/);
    expect(await metrics.total('amr_device_messages_rejected_total', { code: 'unavailable' })).toBe(1);
  });

  it('rejects an invalid press before touching the database', async () => {
    const { link, sent } = recordingLink();
    const store = { store: jest.fn<PressStore['store']>() };
    await pipelineWith(store, link).handle('btn-1', encodePayload({ seq: 3, bat: 300 }, 'cbor'));
    expect(store.store).not.toHaveBeenCalled();
    expect(sent[0]!.ack).toMatchObject({ stage: 'rejected', seq: 3 });
    expect(sent[0]!.ack.reason).toMatch(/bat/);
    expect(parseAck(encodePayload(sent[0]!.ack, 'cbor')).ok).toBe(true);
  });

  it('hands a press that came by SMS to the store with its SMS route (its SMS answer is queued with it) and answers over MQTT', async () => {
    const { link, sent } = recordingLink();
    const { gateway, texts } = recordingGateway();
    const store = { store: jest.fn<PressStore['store']>(async () => ({ kind: 'retransmission' as const, seq: 4, alarm: { id: 'a-1', deviceId: 'btn-1', stage: 'received' as const, pressCount: 1, retransmissions: 1, lastSeq: 4, flags: [] } })) };
    const result = await pipelineWith(store, link, undefined, gateway).handleSms('btn-1', { seq: 4, kind: 'panic' }, { to: '+32470000001', key: KEY });
    expect(result).toEqual({ kind: 'retransmission', alarmId: 'a-1', stage: 'received' });
    expect(store.store).toHaveBeenCalledWith(expect.objectContaining({ path: 'sms', acks: ['mqtt', 'sms'], encoding: 'cbor', sms: { to: '+32470000001', key: KEY } }));
    expect(sent.map((s) => s.ack.stage)).toEqual(['received']);
    // Not posted by the pipeline: the press's transaction wrote it to the SMS outbox.
    expect(texts).toHaveLength(0);
  });

  it('sends nothing for a replayed SMS press and counts it', async () => {
    const { link, sent } = recordingLink();
    const { gateway, texts } = recordingGateway();
    const metrics = new Metrics({ processMetrics: false });
    const store = { store: jest.fn<PressStore['store']>(async () => ({ kind: 'stale' as const, seq: 2, lastSeq: 5 })) };
    const result = await pipelineWith(store, link, metrics, gateway).handleSms('btn-1', { seq: 2, kind: 'panic' }, { to: '+32470000001', key: KEY });
    expect(result).toEqual({ kind: 'stale', lastSeq: 5 });
    expect(sent).toHaveLength(0);
    expect(texts).toHaveLength(0);
    expect(await metrics.total('amr_device_messages_rejected_total', { channel: 'sms', code: 'stale' })).toBe(1);
  });
});
