import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Device, DeviceCommand, closeDatabase, openDatabase, resetDatabase } from '@amr/persistence';
import type { Encoding, OutgoingCmd } from '@amr/protocol';
import type { DeviceLink } from '@amr/runtime';
import { PendingCommands } from './pending-commands.js';

/** A DeviceLink that records the commands a device would have been sent; `failFor` devices cannot be reached. */
function recordingLink(failFor: string[] = []) {
  const sent: { deviceId: string; encoding: Encoding; cmd: OutgoingCmd }[] = [];
  const link = {
    sendCommand: async (deviceId: string, encoding: Encoding, cmd: OutgoingCmd) => {
      if (failFor.includes(deviceId)) throw new Error('broker gone');
      sent.push({ deviceId, encoding, cmd });
    },
  } as unknown as DeviceLink;
  return { link, sent };
}

describe(PendingCommands.name, () => {
  let db: DataSource;

  beforeAll(async () => {
    db = await openDatabase({ url: process.env.TEST_DATABASE_URL || undefined, dataDir: 'memory://' });
    await resetDatabase(db);
    await db.getRepository(Device).insert([
      { id: 'btn-a', secretHash: 'x', encoding: 'json' },
      { id: 'btn-b', secretHash: 'x', encoding: 'cbor' },
      { id: 'btn-down', secretHash: 'x' },
    ]);
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    await db.getRepository(DeviceCommand).insert([
      { deviceId: 'btn-a', body: { cmd: 'locate' }, state: 'queued', createdAt: at(2) },
      { deviceId: 'btn-a', body: { cmd: 'vibrate', vib: 'short' }, state: 'sent', createdAt: at(1), sentAt: at(1) },
      { deviceId: 'btn-a', body: { cmd: 'vibrate' }, state: 'delivered', createdAt: at(0) },
      { deviceId: 'btn-b', body: { cmd: 'vibrate' }, state: 'queued', createdAt: at(3) },
      { deviceId: 'btn-down', body: { cmd: 'vibrate' }, state: 'queued', createdAt: at(3) },
    ]);
  }, 120_000);

  afterAll(async () => {
    if (db) await closeDatabase(db);
  });

  it('sends each device its unacknowledged commands oldest first, and marks the queued ones sent', async () => {
    const { link, sent } = recordingLink(['btn-down']);
    await new PendingCommands(db, link).resendAll(['btn-a', 'btn-b', 'btn-down']);

    const to = (id: string) => sent.filter((s) => s.deviceId === id).map(({ encoding, cmd }) => [encoding, cmd.cmd, typeof cmd.id]);
    expect(to('btn-a')).toEqual([
      ['json', 'vibrate', 'string'],
      ['json', 'locate', 'string'],
    ]);
    expect(to('btn-b')).toEqual([['cbor', 'vibrate', 'string']]);
    const states = await db.getRepository(DeviceCommand).find({ order: { createdAt: 'ASC', deviceId: 'ASC' } });
    expect(states.map((c) => [c.deviceId, c.state])).toEqual([
      ['btn-a', 'delivered'],
      ['btn-a', 'sent'],
      ['btn-a', 'sent'],
      ['btn-b', 'sent'],
      ['btn-down', 'queued'], // not reached: still owed at its next subscription
    ]);
    for (const c of states.filter((c) => c.state === 'sent')) expect(c.sentAt).toBeInstanceOf(Date);
  });
});
