/**
 * Per-device state that survives the simulator's restarts, as a button's firmware keeps it
 * across reboots: the last press number (`seq`, CONTRACT §3 alarm). One small JSON file per
 * device id: `<dir>/<deviceId>.json`.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isDeviceId, UINT32_MAX } from '@amr/protocol';

export interface DeviceState {
  deviceId: string;
  /** The last seq used for a press (uint32). */
  seq: number;
  updatedAt: string;
}

export class StateFileError extends Error {}

/** Default state directory: `~/.amr-device-sim`. */
export function defaultStateDir(): string {
  return join(homedir(), '.amr-device-sim');
}

// one queue per file, so that two buttons of the same device in one process never hand out the
// same seq
const queues = new Map<string, Promise<unknown>>();

export class SeqStore {
  constructor(readonly dir: string = defaultStateDir()) {}

  /** The state file of a device. The id is validated first, so it cannot escape `dir`. */
  file(deviceId: string): string {
    if (!isDeviceId(deviceId)) throw new TypeError(`not a device id: ${JSON.stringify(deviceId)}`);
    return join(this.dir, `${deviceId}.json`);
  }

  /** The last seq used by this device, undefined if it never pressed (no state file). */
  async last(deviceId: string): Promise<number | undefined> {
    return (await this.read(deviceId))?.seq;
  }

  /**
   * The seq of a new press: one more than the last (starting at 1, wrapping after 2^32 − 1 to 0
   * as a uint32 counter does). It is written to disk before it is returned, so that a crash
   * right after can never reuse it.
   */
  next(deviceId: string): Promise<number> {
    const file = this.file(deviceId);
    const run = (queues.get(file) ?? Promise.resolve()).catch(() => undefined).then(async () => {
      const last = (await this.read(deviceId))?.seq;
      const seq = last === undefined ? 1 : last >= UINT32_MAX ? 0 : last + 1;
      await this.write({ deviceId, seq, updatedAt: new Date().toISOString() });
      return seq;
    });
    queues.set(file, run);
    const forget = (): void => {
      if (queues.get(file) === run) queues.delete(file);
    };
    run.then(forget, forget); // the caller gets the rejection; this branch must not raise another
    return run;
  }

  private async read(deviceId: string): Promise<DeviceState | undefined> {
    const file = this.file(deviceId);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch {
      throw new StateFileError(`${file} is not valid JSON: delete it (seq restarts at 1) or use --state-dir`);
    }
    const seq = (state as { seq?: unknown } | null)?.seq;
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > UINT32_MAX) {
      throw new StateFileError(`${file} has no valid seq: delete it (seq restarts at 1) or use --state-dir`);
    }
    return { deviceId, seq, updatedAt: String((state as { updatedAt?: unknown }).updatedAt ?? '') };
  }

  private async write(state: DeviceState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(state.deviceId);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    await rename(temporary, file); // atomic: a reader sees the old or the new state, never half
  }
}
