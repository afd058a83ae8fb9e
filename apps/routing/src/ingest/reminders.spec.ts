import { describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import type { DeviceAcks } from '@amr/alarms';
import type { DeviceCommands } from '@amr/runtime';
import { Reminders, stagesToTell } from './reminders.js';

/** A database whose open alarms are `alarms`, recording each statement's parameters. */
function fakeDb(alarms: Record<string, unknown>[], fail = false) {
  const statements: { name: string; values: unknown[] }[] = [];
  const client = {
    query: async ({ name, values }: { name: string; values: unknown[] }) => {
      statements.push({ name, values });
      if (fail) throw new Error('connection terminated');
      const ids = values[0] as string[];
      return { rows: alarms.filter((a) => ids.includes(String(a.device_id))) };
    },
  };
  const db = { createQueryRunner: () => ({ connect: async () => client, release: async () => undefined }) } as unknown as DataSource;
  return { db, statements };
}

function remindersWith(db: DataSource) {
  const sendStage = jest.fn<DeviceAcks['sendStage']>(async () => undefined);
  const resendPending = jest.fn<DeviceCommands['resendPending']>(async () => undefined);
  const reminders = new Reminders(db, { sendStage: sendStage } as unknown as DeviceAcks, { resendPending } as unknown as DeviceCommands);
  return { reminders, sendStage, resendPending };
}

describe(Reminders.name, () => {
  it('reminds the devices that subscribe together with one read of latest alarms and one of commands', async () => {
    const { db, statements } = fakeDb([
      { id: 'alarm-1', device_id: 'btn-a', stage: 'accepted', last_seq: '12', encoding: 'json' },
      { id: 'alarm-2', device_id: 'btn-c', stage: 'received', last_seq: 3, encoding: 'cbor' },
    ]);
    const { reminders, sendStage, resendPending } = remindersWith(db);
    await Promise.all([
      reminders.remind('btn-a', ['ack', 'cmd']),
      reminders.remind('btn-b', ['ack']),
      reminders.remind('btn-c', ['ack']),
      reminders.remind('btn-d', ['cmd']),
    ]);
    expect(statements).toEqual([{ name: 'reminder-latest-alarms', values: [['btn-a', 'btn-b', 'btn-c'], 10] }]);
    expect(resendPending.mock.calls).toEqual([[['btn-a', 'btn-d']]]);
    expect(sendStage.mock.calls).toEqual([
      [{ id: 'alarm-1', deviceId: 'btn-a', lastSeq: 12 }, 'accepted', { encoding: 'json', sms: null }],
      [{ id: 'alarm-2', deviceId: 'btn-c', lastSeq: 3 }, 'received', { encoding: 'cbor', sms: null }],
    ]);
  });

  it('tells a closed alarm as it ended: the furthest stage the police reached, then closed, in that order', async () => {
    const { db } = fakeDb([{ id: 'alarm-9', device_id: 'btn-e', stage: 'closed', last_seq: 4, encoding: 'cbor', accepted: true, dispatched: false }]);
    const { reminders, sendStage } = remindersWith(db);
    await reminders.remind('btn-e', ['ack']);
    expect(sendStage.mock.calls.map((c) => c[1])).toEqual(['accepted', 'closed']);
    expect(stagesToTell({ stage: 'closed', accepted: true, dispatched: true })).toEqual(['dispatched', 'closed']);
    expect(stagesToTell({ stage: 'closed', accepted: false, dispatched: false })).toEqual(['closed']);
    expect(stagesToTell({ stage: 'dispatched', accepted: true, dispatched: true })).toEqual(['dispatched']);
  });

  it('serves the devices that subscribe during a batch in the next one', async () => {
    const { db, statements } = fakeDb([]);
    const { reminders } = remindersWith(db);
    const first = reminders.remind('btn-a', ['ack']);
    await new Promise((resolve) => setImmediate(resolve)); // the first batch has started
    await Promise.all([first, reminders.remind('btn-b', ['ack']), reminders.remind('btn-c', ['ack'])]);
    expect(statements.map((s) => s.values[0])).toEqual([['btn-a'], ['btn-b', 'btn-c']]);
  });

  it('tells every device of a batch that its reminder failed when the database does', async () => {
    const { db } = fakeDb([], true);
    const { reminders } = remindersWith(db);
    const results = await Promise.allSettled([reminders.remind('btn-a', ['ack']), reminders.remind('btn-b', ['ack'])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
