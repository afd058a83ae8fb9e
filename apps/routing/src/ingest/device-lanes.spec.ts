import { describe, expect, it } from '@jest/globals';
import { DeviceFlooding } from '@amr/runtime';
import { DeviceLanes } from './device-lanes.js';

/** A task that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe(DeviceLanes.name, () => {
  it("runs one device's tasks one at a time, in order", async () => {
    const lanes = new DeviceLanes(8);
    const log: string[] = [];
    const first = gate();
    const a = lanes.run('btn-a', async () => {
      log.push('a1 start');
      await first.opened;
      log.push('a1 end');
    });
    const b = lanes.run('btn-a', async () => void log.push('a2'));
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['a1 start']);
    first.open();
    await Promise.all([a, b]);
    expect(log).toEqual(['a1 start', 'a1 end', 'a2']);
    expect(lanes.active).toBe(0);
  });

  it("runs other devices' tasks while one device's task is stuck", async () => {
    const lanes = new DeviceLanes(8);
    const stuck = gate();
    const held = lanes.run('btn-a', () => stuck.opened);
    await expect(lanes.run('btn-b', async () => 'b done')).resolves.toBe('b done');
    expect(lanes.depth('btn-a')).toBe(1);
    stuck.open();
    await held;
  });

  it('refuses a task beyond the bound, and only for that device', async () => {
    const lanes = new DeviceLanes(3);
    const stuck = gate();
    const queued = [lanes.run('btn-a', () => stuck.opened), lanes.run('btn-a', async () => 1), lanes.run('btn-a', async () => 2)];
    await expect(lanes.run('btn-a', async () => 3)).rejects.toBeInstanceOf(DeviceFlooding);
    await expect(lanes.run('btn-b', async () => 'b')).resolves.toBe('b');
    stuck.open();
    await expect(Promise.all(queued)).resolves.toEqual([undefined, 1, 2]);
    // the lane drained: the device may send again
    await expect(lanes.run('btn-a', async () => 4)).resolves.toBe(4);
  });

  it("drops a flooding device's queued sheddable tasks unrun, lets the running one finish and keeps what must run", async () => {
    const lanes = new DeviceLanes(8);
    const stuck = gate();
    const ran: string[] = [];
    const running = lanes.run('btn-a', async () => {
      await stuck.opened;
      ran.push('running');
    });
    const queued = [1, 2, 3].map((n) => lanes.run('btn-a', async () => void ran.push(`queued ${n}`), { sheddable: true }));
    const sms = lanes.run('btn-a', async () => void ran.push('sms'));
    const other = lanes.run('btn-b', async () => 'b', { sheddable: true });

    expect(lanes.shed('btn-a')).toBe(3);
    for (const q of queued) await expect(q).rejects.toBeInstanceOf(DeviceFlooding);
    expect(lanes.depth('btn-a')).toBe(2); // the running task and the one that must run
    await expect(other).resolves.toBe('b'); // another device's lane is untouched
    stuck.open();
    await Promise.all([running, sms]);
    expect(ran).toEqual(['running', 'sms']);
    expect(lanes.shed('btn-a')).toBe(0); // drained: nothing left to drop
  });

  it('goes on with the next task when one fails', async () => {
    const lanes = new DeviceLanes(4);
    const failed = lanes.run('btn-a', async () => {
      throw new Error('boom');
    });
    const next = lanes.run('btn-a', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });
});
