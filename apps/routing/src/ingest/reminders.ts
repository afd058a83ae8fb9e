import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AckStage, DownChannel, Encoding } from '@amr/protocol';
import { DATA_SOURCE, DeviceCommands } from '@amr/runtime';
import { GroupCommit, preparedQuery } from '@amr/persistence';
import { DeviceAcks } from '@amr/alarms';

/** Devices reminded together at most. */
const MAX_BATCH = 500;
/** A closed alarm is still told to its device (how it ended) this long after it closed. */
const CLOSED_REMINDER_MINUTES = 10;

export interface LatestAlarmRow {
  id: string;
  device_id: string;
  stage: AckStage;
  last_seq: string | number;
  encoding: Encoding;
  accepted: boolean;
  dispatched: boolean;
}

interface Waiting {
  readonly deviceId: string;
  readonly channels: readonly DownChannel[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Gives devices that listen again what the database says they are owed: on `ack`, the current
 * stage of their latest alarm (open, or closed a few minutes ago); on `cmd`, their unacknowledged commands (DeviceCommands). The devices
 * of the moment are served together, so a reconnect storm costs one read of open alarms and one of
 * commands per batch instead of several queries per device. One batch is in flight at a time; the
 * devices that subscribe meanwhile go into the next.
 */
@Injectable()
export class Reminders {
  private readonly batches = new GroupCommit<Waiting>((batch) => this.run(batch), { maxBatch: MAX_BATCH });

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly acks: DeviceAcks,
    private readonly commands: DeviceCommands,
  ) {}

  /** Resolves once the device has been sent what it is owed on those channels (or rejects: the database failed). */
  remind(deviceId: string, channels: readonly DownChannel[]): Promise<void> {
    return new Promise((resolve, reject) => this.batches.add({ deviceId, channels, resolve, reject }));
  }

  private async run(batch: Waiting[]): Promise<void> {
    const wanting = (channel: DownChannel) => [...new Set(batch.filter((w) => w.channels.includes(channel)).map((w) => w.deviceId))];
    try {
      await Promise.all([this.remindStages(wanting('ack')), this.commands.resendPending(wanting('cmd'))]);
      for (const w of batch) w.resolve();
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  /**
   * Each device's latest alarm, told again over MQTT (it has just subscribed; AlarmStages sends
   * every stage's ack): while it is open, its current stage; for CLOSED_REMINDER_MINUTES after it
   * closed, how it ended — the furthest stage the police reached (`dispatched` or `accepted`, if
   * any), then `closed` — so that a device whose queued acks were lost (a session, or a Redis that
   * lost its data) still learns that its press was taken and that it is over.
   */
  private async remindStages(deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const latest = (await preparedQuery(
      this.db,
      'reminder-latest-alarms',
      // Per device, its newest alarm by the (device_id, received_at) index: the cost grows with
      // the devices asked about, not with the fleet (a join with `devices` by hash scanned them all).
      `SELECT a.id, x.device_id, a.stage, a.last_seq, d.encoding,
              a.accepted_at IS NOT NULL AS accepted, a.dispatched_at IS NOT NULL AS dispatched
         FROM unnest($1::text[]) AS x(device_id)
         JOIN devices d ON d.id = x.device_id
         JOIN LATERAL (SELECT a.id, a.stage, a.last_seq, a.closed_at, a.accepted_at, a.dispatched_at FROM alarms a
                       WHERE a.device_id = x.device_id ORDER BY a.received_at DESC LIMIT 1) a
           ON a.stage <> 'closed' OR a.closed_at > now() - make_interval(mins => $2)`,
      [deviceIds, CLOSED_REMINDER_MINUTES],
    )) as unknown as LatestAlarmRow[];
    await Promise.all(
      latest.map(async (a) => {
        const alarm = { id: a.id, deviceId: a.device_id, lastSeq: Number(a.last_seq) };
        // one after the other: the device hears them in the order they happened
        for (const stage of stagesToTell(a)) await this.acks.sendStage(alarm, stage, { encoding: a.encoding, sms: null });
      }),
    );
  }
}

/** An open alarm: its stage. A closed one: the furthest stage the police reached, then `closed`. */
export function stagesToTell(a: Pick<LatestAlarmRow, 'stage' | 'accepted' | 'dispatched'>): AckStage[] {
  if (a.stage !== 'closed') return [a.stage];
  const reached: AckStage[] = a.dispatched ? ['dispatched'] : a.accepted ? ['accepted'] : [];
  return [...reached, 'closed'];
}
