import { describe, expect, it } from '@jest/globals';
import { makeAck, readSmsAck, smsKey } from '@amr/protocol';
import { queueSms } from './sms-outbox.js';

const KEY = smsKey('k7Qm2xV9pL4sT8wZ1cR6nB3yH5jD0fGa');

describe('queueSms', () => {
  it('writes every text in one statement, sealed with the device key, with its alarm and stage', async () => {
    const statements: { text: string; values: unknown[] }[] = [];
    await queueSms(async (text, values) => void statements.push({ text, values }), [
      { deviceId: 'btn-1', to: '+32470000001', key: KEY, ack: makeAck('received', { seq: 4, alarm: '96ad78e7-3c1b-4e0a-9f5d-2b8c7a1e4d60' }) },
      { deviceId: 'btn-2', to: '+32470000002', key: KEY, ack: makeAck('rejected', { seq: 2, reason: 'device not assigned to a protection case' }) },
    ]);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.text).toMatch(/INSERT INTO sms_outbox/);
    const rows = JSON.parse(statements[0]!.values[0] as string) as { device_id: string; msisdn: string; text: string; alarm_id: string | null; stage: string }[];
    expect(rows.map(({ device_id, msisdn, alarm_id, stage }) => ({ device_id, msisdn, alarm_id, stage }))).toEqual([
      { device_id: 'btn-1', msisdn: '+32470000001', alarm_id: '96ad78e7-3c1b-4e0a-9f5d-2b8c7a1e4d60', stage: 'received' },
      { device_id: 'btn-2', msisdn: '+32470000002', alarm_id: null, stage: 'rejected' },
    ]);
    // The stored text is what the button reads: the ack, its MAC checked with the device's key.
    const first = readSmsAck(rows[0]!.text, KEY);
    expect(first.ok && first.value).toMatchObject({ stage: 'received', seq: 4, alarm: '96ad78e7-3c1b-4e0a-9f5d-2b8c7a1e4d60', vib: 'short' });
    const second = readSmsAck(rows[1]!.text, KEY);
    expect(second.ok && second.value).toMatchObject({ stage: 'rejected', seq: 2, vib: 'long' });
    expect(readSmsAck(rows[0]!.text, smsKey('another-device-secret-0123456789')).ok).toBe(false);
  });

  it('writes nothing when no text is due', async () => {
    const statements: unknown[] = [];
    await queueSms(async (text) => void statements.push(text), []);
    expect(statements).toEqual([]);
  });
});
