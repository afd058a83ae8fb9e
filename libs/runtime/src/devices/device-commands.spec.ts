import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Device, DeviceCommand, closeDatabase, openDatabase, resetDatabase } from '@amr/persistence';
import type { Encoding, OutgoingCmd } from '@amr/protocol';
import type { DeviceLink } from './device-link.js';
import { DeviceCommands, markCommandDelivered } from './device-commands.js';

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

describe(DeviceCommands.name, () => {
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
    await new DeviceCommands(db, link).resendPending(['btn-a', 'btn-b', 'btn-down']);

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

  it('stores a command, publishes it with its id, and marks it sent; the PUBACK marks it delivered once', async () => {
    const { link, sent } = recordingLink();
    const commands = new DeviceCommands(db, link);
    const result = await commands.send('btn-b', 'cbor', { cmd: 'vibrate', vib: 'long' });

    expect(result.state).toBe('sent');
    expect(sent).toEqual([{ deviceId: 'btn-b', encoding: 'cbor', cmd: { cmd: 'vibrate', vib: 'long', id: result.id } }]);
    expect(await markCommandDelivered(db, 'btn-a', result.id)).toBe(false); // another device's PUBACK
    expect(await markCommandDelivered(db, 'btn-b', 'not-a-command-id')).toBe(false);
    expect(await markCommandDelivered(db, 'btn-b', result.id)).toBe(true);
    expect(await markCommandDelivered(db, 'btn-b', result.id)).toBe(false); // delivered already
    const [newest] = await commands.list('btn-b', 1);
    expect(newest).toMatchObject({ id: result.id, body: { cmd: 'vibrate', vib: 'long' }, state: 'delivered' });
    expect(newest!.deliveredAt).not.toBeNull();
  });

  it('leaves a command queued when the broker cannot take it, so the next subscription sends it', async () => {
    const { link, sent } = recordingLink(['btn-down']);
    const commands = new DeviceCommands(db, link);
    const result = await commands.send('btn-down', 'cbor', { cmd: 'locate' });

    expect(result.state).toBe('queued');
    expect(sent).toEqual([]);
    const { link: back, sent: resent } = recordingLink();
    await new DeviceCommands(db, back).resendPending(['btn-down']);
    expect(resent.map((s) => s.cmd.id)).toContain(result.id);
  });
});
