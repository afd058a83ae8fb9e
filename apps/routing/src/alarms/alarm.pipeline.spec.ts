import { describe, expect, it, jest } from '@jest/globals';
import { encodePayload, parseAck, type AckMessage, type Encoding } from '@amr/protocol';
import { loadConfig } from '@amr/config';
import { Metrics, type DeviceLink } from '@amr/runtime';
import type { AlarmService } from '@amr/alarms';
import { AlarmPipeline } from './alarm.pipeline.js';
import type { PressStore } from './press-store.js';

/** A DeviceLink that records what the button would have been sent. */
function recordingLink() {
  const sent: { deviceId: string; encoding: Encoding; ack: AckMessage }[] = [];
  const link = {
    sendAck: async (deviceId: string, encoding: Encoding, ack: AckMessage) => void sent.push({ deviceId, encoding, ack }),
  } as unknown as DeviceLink;
  return { link, sent };
}

function pipelineWith(store: Pick<PressStore, 'store'>, link: DeviceLink, metrics = new Metrics({ processMetrics: false })) {
  return new AlarmPipeline(loadConfig({}), link, {} as AlarmService, store as PressStore, metrics);
}

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
});
