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

  it('answers a task sent again while its first copy is queued or running with that outcome, without running it', async () => {
    const lanes = new DeviceLanes(8);
    const stuck = gate();
    let runs = 0;
    let joins = 0;
    const press = (key: string) =>
      lanes.run(
        'btn-a',
        async () => {
          runs += 1;
          await stuck.opened;
          return `stored ${key} (run ${runs})`;
        },
        { sheddable: true, key, joined: () => (joins += 1) },
      );
    const first = press('seq 1');
    const resent = press('seq 1'); // the first copy is running
    const second = press('seq 2');
    const resentSecond = press('seq 2'); // the first copy is queued
    expect(lanes.depth('btn-a')).toBe(4); // the copies count towards the bound
    const other = lanes.run('btn-b', async () => 'b', { key: 'seq 1' }); // keys are per device
    await expect(other).resolves.toBe('b');
    stuck.open();
    expect(await Promise.all([first, resent, second, resentSecond])).toEqual(['stored seq 1 (run 1)', 'stored seq 1 (run 1)', 'stored seq 2 (run 2)', 'stored seq 2 (run 2)']);
    expect([runs, joins]).toEqual([2, 2]);
    expect(lanes.active).toBe(0);
    // once answered, the same message runs again (a retransmission after its answer was lost)
    await expect(press('seq 1')).resolves.toBe('stored seq 1 (run 3)');
  });

  it('runs a message again once its queued copy was dropped, and drops the copies with it', async () => {
    const lanes = new DeviceLanes(8);
    const stuck = gate();
    const running = lanes.run('btn-a', () => stuck.opened);
    const queued = lanes.run('btn-a', async () => 'stored', { sheddable: true, key: 'seq 1' });
    const copy = lanes.run('btn-a', async () => 'copy ran', { sheddable: true, key: 'seq 1' });
    expect(lanes.shed('btn-a')).toBe(1);
    await expect(queued).rejects.toBeInstanceOf(DeviceFlooding);
    await expect(copy).rejects.toBeInstanceOf(DeviceFlooding);
    const after = lanes.run('btn-a', async () => 'stored after', { sheddable: true, key: 'seq 1' });
    stuck.open();
    await running;
    await expect(after).resolves.toBe('stored after');
  });

  it('refuses copies beyond the bound like any other message', async () => {
    const lanes = new DeviceLanes(3);
    const stuck = gate();
    const accepted = [0, 1, 2].map(() => lanes.run('btn-a', () => stuck.opened, { key: 'seq 1' }));
    await expect(lanes.run('btn-a', () => stuck.opened, { key: 'seq 1' })).rejects.toBeInstanceOf(DeviceFlooding);
    stuck.open();
    await Promise.all(accepted);
  });
});
