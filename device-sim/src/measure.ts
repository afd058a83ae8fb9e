/**
 * What a run measured, per press and aggregated per profile, and the objectives it is held to
 * (the exit code). Pure: samples in, summaries and verdicts out.
 */
import type { CicArrival } from './cic.js';
import type { TrackedPress } from './press-tracker.js';
import type { ProfileName } from './network.js';
import { summarize, type LatencySummary } from './stats.js';

/** One press as the device and the CIC saw it. Times in ms from the press. */
export interface PressSample {
  deviceId: string;
  profile: ProfileName | 'direct';
  seq: number;
  /** ms from the start of the load phase. */
  atMs: number;
  outcome: 'received' | 'rejected' | 'lost' | 'aborted';
  receivedMs?: number;
  cicMs?: number;
  acceptedMs?: number;
  dispatchedMs?: number;
  closedMs?: number;
  retransmissions: number;
  alarmId?: string;
  /** The press produced a second alarm id (acks with two ids, or an extra alarm at the CIC). */
  duplicated: boolean;
  /** Why it was rejected (the `rejected` ack's reason). */
  reason?: string;
  /** SMS path: the path of the first `received`, the first `received` on each path (ms from the press) and the texts sent. */
  receivedPath?: 'mqtt' | 'sms';
  mqttMs?: number;
  smsMs?: number;
  smsSent?: number;
}

export const STAGES = ['receivedMs', 'cicMs', 'acceptedMs', 'dispatchedMs'] as const;
export type StageKey = (typeof STAGES)[number];
export const STAGE_LABELS: Readonly<Record<StageKey, string>> = {
  receivedMs: '"received" on the device',
  cicMs: 'delivery at the CIC',
  acceptedMs: '"accepted" on the device',
  dispatchedMs: '"dispatched" on the device',
};

export interface GroupSummary {
  presses: number;
  received: number;
  lost: number;
  rejected: number;
  duplicated: number;
  /** Share of presses (0–1) with "received" on the device within 10 s / 15 s of the press. */
  within10s: number;
  within15s: number;
  stages: Record<StageKey, LatencySummary>;
}

export function summarizeGroup(samples: readonly PressSample[]): GroupSummary {
  const within = (ms: number) => (samples.length === 0 ? 0 : samples.filter((s) => s.receivedMs !== undefined && s.receivedMs <= ms).length / samples.length);
  const stages = Object.fromEntries(
    STAGES.map((key) => [key, summarize(samples.flatMap((s) => (s[key] === undefined ? [] : [s[key]!])))]),
  ) as Record<StageKey, LatencySummary>;
  return {
    presses: samples.length,
    received: samples.filter((s) => s.outcome === 'received').length,
    lost: samples.filter((s) => s.outcome === 'lost').length,
    rejected: samples.filter((s) => s.outcome === 'rejected').length,
    duplicated: samples.filter((s) => s.duplicated).length,
    within10s: within(10_000),
    within15s: within(15_000),
    stages,
  };
}

/** Summaries per profile (in first-seen order) and over all. */
export function summarizeByProfile(samples: readonly PressSample[]): { all: GroupSummary; profiles: Record<string, GroupSummary> } {
  const profiles: Record<string, GroupSummary> = {};
  for (const profile of [...new Set(samples.map((s) => s.profile))]) {
    profiles[profile] = summarizeGroup(samples.filter((s) => s.profile === profile));
  }
  return { all: summarizeGroup(samples), profiles };
}

export interface Objective {
  name: string;
  target: string;
  actual: string;
  ok: boolean;
}

/** Received-within deadline per profile: the share of presses that must make it. */
export const DEADLINES: Readonly<Record<ProfileName | 'direct', { ms: number; share: number }>> = Object.freeze({
  direct: { ms: 10_000, share: 0.95 },
  good: { ms: 10_000, share: 0.95 },
  'urban-indoor': { ms: 10_000, share: 0.95 },
  poor: { ms: 30_000, share: 0.9 },
});

/**
 * The objectives of a run: no lost and no duplicated press, every received press seen at the
 * CIC (when a CIC watched), and per profile the share received within its deadline.
 */
export function evaluateObjectives(
  samples: readonly PressSample[],
  options: { cicWatched: boolean; minPresses?: number; /** false: the shares within the deadlines are reported, not held (forced coverage gaps) */ deadlines?: boolean },
): Objective[] {
  const { all, profiles } = summarizeByProfile(samples);
  const objectives: Objective[] = [
    { name: 'presses made', target: `≥ ${options.minPresses ?? 1}`, actual: String(all.presses), ok: all.presses >= (options.minPresses ?? 1) },
    { name: 'lost presses', target: '0', actual: String(all.lost), ok: all.lost === 0 },
    { name: 'duplicated presses', target: '0', actual: String(all.duplicated), ok: all.duplicated === 0 },
    { name: 'rejected presses', target: '0', actual: String(all.rejected), ok: all.rejected === 0 },
  ];
  if (options.cicWatched) {
    const seen = samples.filter((s) => s.outcome === 'received' && s.cicMs !== undefined).length;
    objectives.push({ name: 'received presses visible at the CIC', target: `${all.received}`, actual: String(seen), ok: seen === all.received });
  }
  if (options.deadlines === false) return objectives;
  for (const [profile, summary] of Object.entries(profiles)) {
    const deadline = DEADLINES[profile as ProfileName | 'direct'];
    const share = samples.filter((s) => s.profile === profile && s.receivedMs !== undefined && s.receivedMs <= deadline.ms).length / Math.max(1, summary.presses);
    objectives.push({
      name: `${profile}: "received" within ${deadline.ms / 1000} s`,
      target: `≥ ${pct(deadline.share)}`,
      actual: pct(share),
      ok: share >= deadline.share,
    });
  }
  return objectives;
}

export function pct(share: number): string {
  return `${(share * 100).toFixed(share === 1 || share === 0 ? 0 : 1)} %`;
}

/**
 * A second alarm where one was expected: an alarm the CIC received for one of `devices` that none
 * of that device's presses was acked with, and that none of its unanswered presses accounts for.
 * Each marks one press of the device duplicated (the first not yet marked). Returns how many there
 * were.
 *
 * An unanswered press (lost or aborted, no ack with an alarm id) may well have been stored and its
 * alarm opened, its answer lost with the connection (a platform killed after the commit): each such
 * press accounts for one alarm of its device that no ack named. A second one is still a duplicate.
 *
 * An alarm the platform opened before `since` (Unix ms; the run's first press) is not one: no press
 * of the run made it. A run on a database earlier runs left alarms open in sees those too — when it
 * fetches the open alarms, or when one is handed over to another CIC and arrives there anew.
 */
export function markExtraAlarms(
  samples: PressSample[],
  received: ReadonlyMap<string, { deviceId: string; openedAt?: number }>,
  devices: ReadonlySet<string>,
  since: number,
): number {
  const acked = new Set(samples.flatMap((s) => (s.alarmId ? [s.alarmId] : [])));
  const unanswered = new Map<string, number>();
  for (const s of samples) {
    if (s.alarmId === undefined && (s.outcome === 'lost' || s.outcome === 'aborted')) unanswered.set(s.deviceId, (unanswered.get(s.deviceId) ?? 0) + 1);
  }
  let extra = 0;
  for (const [id, e] of received) {
    if (!devices.has(e.deviceId) || acked.has(id)) continue;
    if (e.openedAt !== undefined && e.openedAt < since) continue;
    const left = unanswered.get(e.deviceId) ?? 0;
    if (left > 0) {
      unanswered.set(e.deviceId, left - 1);
      continue;
    }
    extra += 1;
    const victim = samples.find((s) => s.deviceId === e.deviceId && !s.duplicated);
    if (victim) victim.duplicated = true;
  }
  return extra;
}

/**
 * When each press became visible at the CIC (performance.now()), or undefined. The presses of one
 * alarm, in the order they were sent, are its presses 1, 2, 3 … of this run; an event carrying
 * press count n shows press n (and the ones before it). An alarm first seen in this run (its
 * `alarm.received` arrived) counts from 1; one already open before counts from the lowest press
 * count seen. Without press counts, the first event at or after the press is taken.
 */
export function cicArrivalTimes(
  presses: ReadonlyArray<{ alarmId?: string | undefined; sentAt: number; received: boolean }>,
  arrivals: ReadonlyMap<string, readonly CicArrival[]>,
): Array<number | undefined> {
  const out: Array<number | undefined> = new Array(presses.length).fill(undefined);
  const byAlarm = new Map<string, number[]>();
  presses.forEach((p, i) => {
    if (!p.received || p.alarmId === undefined) return;
    const list = byAlarm.get(p.alarmId);
    if (list) list.push(i);
    else byAlarm.set(p.alarmId, [i]);
  });
  for (const [alarmId, indexes] of byAlarm) {
    const events = arrivals.get(alarmId) ?? [];
    const counted = events.filter((e) => e.pressCount !== undefined).sort((a, b) => a.pressCount! - b.pressCount! || a.at - b.at);
    indexes.sort((a, b) => presses[a]!.sentAt - presses[b]!.sentAt);
    const base = events.some((e) => e.received) ? 0 : counted.length ? counted[0]!.pressCount! - 1 : 0;
    indexes.forEach((index, ordinal) => {
      const sentAt = presses[index]!.sentAt;
      const shown = counted.find((e) => e.pressCount! >= base + ordinal + 1);
      out[index] = shown !== undefined && shown.at >= sentAt - 1 ? shown.at : events.find((e) => e.at >= sentAt - 1)?.at;
    });
  }
  return out;
}

/**
 * The samples of a run's tracked presses: each press as its device saw it (outcome, `received`
 * latency, retransmissions, a second alarm id) and when the CIC saw it. `origin` is the start of
 * the load phase (performance.now()); `deviceOf` names a tracked press's device and profile.
 */
export function samplesOf(
  presses: readonly TrackedPress[],
  arrivals: ReadonlyMap<string, readonly CicArrival[]>,
  origin: number,
  deviceOf: (device: number) => { deviceId: string; profile: PressSample['profile'] },
): PressSample[] {
  const cicAt = cicArrivalTimes(presses.map((p) => ({ alarmId: p.alarmId, sentAt: p.sentAt, received: p.outcome === 'received' })), arrivals);
  return presses.map((p, i) => ({
    ...deviceOf(p.device),
    seq: p.seq,
    atMs: p.sentAt - origin,
    outcome: p.outcome === 'pending' ? 'lost' : p.outcome,
    retransmissions: p.retransmissions,
    duplicated: (p.otherAlarmIds?.length ?? 0) > 0,
    ...(p.outcome === 'received' ? { receivedMs: p.answeredAt! - p.sentAt } : {}),
    ...(cicAt[i] !== undefined ? { cicMs: cicAt[i]! - p.sentAt } : {}),
    ...(p.alarmId !== undefined ? { alarmId: p.alarmId } : {}),
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
  }));
}

/** Presses over both paths (CONTRACT §6): who answered first, and the shares per path. */
export interface PathSummary {
  presses: number;
  /** Presses that also went by SMS. */
  fellBack: number;
  /** Presses whose first `received` came by MQTT, by SMS. */
  firstBy: { mqtt: number; sms: number };
  /** Share of presses (0–1) with `received` within 10 s / 15 s over MQTT, by SMS, and on either path. */
  mqtt: { within10s: number; within15s: number };
  sms: { within10s: number; within15s: number };
  both: { within10s: number; within15s: number };
}

export function summarizePaths(samples: readonly PressSample[]): PathSummary {
  const n = samples.length;
  const share = (ms: number, value: (s: PressSample) => number | undefined) => (n === 0 ? 0 : samples.filter((s) => (value(s) ?? Infinity) <= ms).length / n);
  const shares = (value: (s: PressSample) => number | undefined) => ({ within10s: share(10_000, value), within15s: share(15_000, value) });
  return {
    presses: n,
    fellBack: samples.filter((s) => (s.smsSent ?? 0) > 0).length,
    firstBy: { mqtt: samples.filter((s) => s.receivedPath === 'mqtt').length, sms: samples.filter((s) => s.receivedPath === 'sms').length },
    mqtt: shares((s) => s.mqttMs),
    sms: shares((s) => s.smsMs),
    both: shares((s) => s.receivedMs),
  };
}

/** Path summaries per profile (in first-seen order) and over all. */
export function summarizePathsByProfile(samples: readonly PressSample[]): { all: PathSummary; profiles: Record<string, PathSummary> } {
  const profiles: Record<string, PathSummary> = {};
  for (const profile of [...new Set(samples.map((s) => s.profile))]) profiles[profile] = summarizePaths(samples.filter((s) => s.profile === profile));
  return { all: summarizePaths(samples), profiles };
}

/** The platform's own count: its alarms for the run's devices against the presses acked with them. */
export interface AlarmCheck {
  alarms: number;
  /** Presses the platform counted more than once (an alarm's press count beyond the presses acked with it). */
  countedTwice: number;
  /** Alarms none of the run's presses was acked with (a second alarm for one press). */
  withoutPress: number;
}

/**
 * Checks the platform's alarms (`GET /api/v1/alarms`) of `devices` against the samples: each
 * alarm's press count must equal the presses acked with its id (a press that went both ways is
 * one press); a press that got no answer may still have been counted, so it is allowed for.
 */
export function checkAlarms(
  alarms: ReadonlyArray<{ id: string; deviceId: string; pressCount: number }>,
  samples: readonly PressSample[],
  devices: ReadonlySet<string>,
): AlarmCheck {
  const check: AlarmCheck = { alarms: 0, countedTwice: 0, withoutPress: 0 };
  for (const alarm of alarms) {
    if (!devices.has(alarm.deviceId)) continue;
    check.alarms += 1;
    const acked = new Set(samples.filter((s) => s.alarmId === alarm.id).map((s) => `${s.deviceId}:${s.seq}`)).size;
    const unanswered = samples.filter((s) => s.deviceId === alarm.deviceId && s.alarmId === undefined).length;
    if (acked === 0 && unanswered === 0) check.withoutPress += 1;
    check.countedTwice += Math.max(0, alarm.pressCount - acked - unanswered);
  }
  return check;
}
