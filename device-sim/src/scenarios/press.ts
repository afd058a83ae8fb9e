/**
 * Scenario `press`: one button presses N times, one after another, and follows every ack;
 * optionally a CIC operator works each alarm through the API (accept, dispatch, close).
 */
import type { CmdMessage } from '@amr/protocol';
import { ApiClient, ApiError } from '../api.js';
import type { PressOptions } from '../args.js';
import { Button, ConnectError, RefusedError, type PressResult } from '../button.js';
import { operateAlarm, type OperatorStepResult } from '../operator.js';
import { formatAck, formatSummary, ms, type PressCounts } from '../output.js';
import { provisionDevice } from '../provision.js';
import { StateFileError } from '../state.js';
import { summarize, type LatencySummary } from '../stats.js';
import { sleep } from './fleet.js';
import type { ScenarioContext, ScenarioOutcome } from './types.js';

export interface PressRecord extends PressResult {
  operator?: OperatorStepResult[];
}

export interface PressRunResult {
  ok: boolean;
  scenario: 'press';
  device: { id: string; provisioned: boolean; caseId?: string; secret?: string };
  mqttUrl: string;
  encoding: string;
  sessionPresent?: boolean;
  presses: PressRecord[];
  acks: Array<Record<string, unknown>>;
  cmds: CmdMessage[];
  summary: PressCounts & { operatorFailures: number; latencyMs: LatencySummary };
  error?: { kind: string; message: string; status?: number | null; returnCode?: number };
}

export async function runPress(options: PressOptions, { reporter, signal }: ScenarioContext): Promise<ScenarioOutcome> {
  const api = options.api ? new ApiClient(options.api.url, options.api.token, { timeoutMs: options.timeoutMs }) : undefined;
  const result: PressRunResult = {
    ok: false,
    scenario: 'press',
    device: { id: '', provisioned: false },
    mqttUrl: options.mqttUrl,
    encoding: options.encoding,
    presses: [],
    acks: [],
    cmds: [],
    summary: { ...countPresses([]), operatorFailures: 0, latencyMs: summarize([]) },
  };
  const fatal = (kind: string, error: Error, extra: Partial<NonNullable<PressRunResult['error']>> = {}): ScenarioOutcome => {
    reporter.error(error.message);
    result.error = { kind, message: error.message, ...extra };
    return { exitCode: 1, result };
  };

  // ---- credentials -----------------------------------------------------------------------------
  let deviceId: string;
  let secret: string;
  if (options.credentials.mode === 'device') {
    ({ deviceId, secret } = options.credentials);
    result.device = { id: deviceId, provisioned: false };
  } else {
    try {
      const device = await provisionDevice(api!, { cicId: options.credentials.cicId });
      ({ deviceId, secret } = device);
      result.device = { id: deviceId, provisioned: true, caseId: device.caseId, secret };
      reporter.line(`provisioned device ${deviceId} for case ${device.caseId} (${options.credentials.cicId})`);
      reporter.line(`  secret (shown once): ${secret}   — reuse with --device ${deviceId} --secret ${secret}`);
    } catch (error) {
      if (error instanceof ApiError) return fatal('provision', new Error(`provisioning failed: ${error.message}`), { status: error.status });
      throw error;
    }
  }

  // ---- connect -------------------------------------------------------------------------------
  const button = new Button({
    deviceId,
    secret,
    mqttUrl: options.mqttUrl,
    endpoints: options.mqttUrls,
    encoding: options.encoding,
    stateDir: options.stateDir,
    connectTimeoutMs: options.timeoutMs,
  });
  button.on('ack', (event) => {
    reporter.line(formatAck(event, options.encoding));
    result.acks.push({
      ...event.ack,
      encoding: event.encoding,
      ...(event.latencyMs !== undefined ? { latencyMs: round(event.latencyMs) } : {}),
      known: event.known,
      repeat: event.repeat,
    });
  });
  button.on('cmd', ({ cmd }) => {
    result.cmds.push(cmd);
    reporter.line(`cmd       ${Object.entries(cmd).map(([k, v]) => (k === 'cmd' ? String(v) : `${k}=${String(v)}`)).join(' ')}`);
  });
  button.on('invalid-message', ({ topic, error }) => reporter.error(`undecodable message on ${topic}: ${error.message}`));
  button.on('sent', ({ seq, retransmission, bytes }) => {
    const head = `press #${seq}`.padEnd(12);
    if (retransmission === 0) reporter.line(`${head} ${'sent'.padEnd(11)} ${options.kind}, ${options.encoding} ${bytes} bytes`);
    else reporter.line(`${head} ${'resent'.padEnd(11)} retransmission ${retransmission}`);
  });
  button.on('offline', () => reporter.error('mqtt: connection lost, reconnecting…'));
  if (options.mqttUrls.length > 1) {
    button.on('transport-closed', ({ next }) => reporter.error(`mqtt: trying ${options.mqttUrls[next]} next`));
  }
  button.on('connection-error', (error) => reporter.error(`mqtt: ${error.message}`));
  button.on('connect', ({ reconnect, sessionPresent }) => {
    if (reconnect) reporter.error(`mqtt: reconnected (session present: ${sessionPresent ? 'yes' : 'no'})`);
  });

  try {
    const { sessionPresent } = await button.connect();
    result.sessionPresent = sessionPresent;
    reporter.line(
      `connected to ${options.mqttUrls[button.endpoint]} as ${deviceId} (${options.encoding}, session present: ${sessionPresent ? 'yes' : 'no'})`,
    );
  } catch (error) {
    if (error instanceof RefusedError) {
      const hint = error.returnCode === 5 || error.returnCode === 4 ? ' — check the device id and secret' : '';
      return fatal('refused', new Error(`${error.message}${hint}`), { returnCode: error.returnCode });
    }
    if (error instanceof ConnectError) return fatal('connect', error);
    throw error;
  }

  // ---- presses -----------------------------------------------------------------------------------
  try {
    for (let i = 0; i < options.presses && !signal.aborted; i++) {
      if (i > 0 && options.intervalMs > 0) await sleep(options.intervalMs, signal);
      if (signal.aborted) break;
      const record: PressRecord = await button.press({
        kind: options.kind,
        loc: { lat: options.lat, lon: options.lon, acc: options.acc, ts: Math.floor(Date.now() / 1000), src: 'gnss' },
        bat: options.bat,
        timeoutMs: options.timeoutMs,
        retransmitMs: options.retransmitMs,
        signal,
      });
      result.presses.push(record);
      if (record.outcome === 'lost') {
        reporter.line(
          `press #${record.seq}`.padEnd(12) +
            ` lost: no "received" within ${options.timeoutMs / 1000} s (${record.retransmissions} retransmissions)`,
        );
      }
      if (record.outcome === 'received' && options.operator && api && record.alarmId !== undefined) {
        record.operator = await operateAlarm(button, api, { id: record.alarmId, seq: record.seq, kind: record.kind }, {
          timeoutMs: options.timeoutMs,
          signal,
          onStep: (step) => {
            const head = `operator  ${step.action.padEnd(9)}`;
            if (step.ok) reporter.line(`${head} HTTP ${step.httpStatus} in ${ms(step.httpMs)}, "${step.stage}" on the device ${ms(step.ackMs)} after the request`);
            else reporter.error(`${head} failed: ${step.error}`);
          },
        });
        // the operator stages' latencies arrived after press() returned
        record.stages = button.pressResult(record.seq)?.stages ?? record.stages;
      } else if (record.outcome === 'received' && options.operator) {
        record.operator = [{ action: 'accept', stage: 'accepted', ok: false, error: 'the received ack carried no alarm id' }];
        reporter.error(`operator  cannot act on press #${record.seq}: its ack carried no alarm id`);
      }
    }
  } catch (error) {
    if (error instanceof StateFileError) return fatal('state', error);
    throw error;
  } finally {
    await button.close();
  }

  // ---- summary -----------------------------------------------------------------------------------
  const counts = countPresses(result.presses);
  const latency = summarize(result.presses.flatMap((p) => (p.latencyMs === undefined ? [] : [p.latencyMs])));
  const operatorFailures = result.presses.filter((p) => p.operator?.some((s) => !s.ok)).length;
  result.summary = { ...counts, operatorFailures, latencyMs: roundSummary(latency) };
  result.presses = result.presses.map(roundPress);
  for (const line of formatSummary(counts, latency, operatorFailures)) reporter.line(line);

  result.ok = counts.sent === options.presses && counts.received === counts.sent && operatorFailures === 0;
  const exitCode = signal.aborted ? 130 : result.ok ? 0 : 1;
  return { exitCode, result };
}

export function countPresses(presses: readonly PressResult[]): PressCounts {
  const count = (outcome: PressResult['outcome']) => presses.filter((p) => p.outcome === outcome).length;
  return {
    sent: presses.length,
    received: count('received'),
    rejected: count('rejected'),
    lost: count('lost'),
    aborted: count('aborted'),
    retransmissions: presses.reduce((sum, p) => sum + p.retransmissions, 0),
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Milliseconds to the microsecond in the JSON result (the clock's resolution is far finer than that matters). */
function roundPress(p: PressRecord): PressRecord {
  const rounded: PressRecord = { ...p, stages: Object.fromEntries(Object.entries(p.stages).map(([k, v]) => [k, round(v)])) };
  if (p.latencyMs !== undefined) rounded.latencyMs = round(p.latencyMs);
  if (p.operator) {
    rounded.operator = p.operator.map((step) => ({
      ...step,
      ...(step.httpMs !== undefined ? { httpMs: round(step.httpMs) } : {}),
      ...(step.ackMs !== undefined ? { ackMs: round(step.ackMs) } : {}),
    }));
  }
  return rounded;
}

function roundSummary(s: LatencySummary): LatencySummary {
  const r = (v: number | null) => (v === null ? null : round(v));
  return { count: s.count, min: r(s.min), p50: r(s.p50), p90: r(s.p90), p99: r(s.p99), p999: r(s.p999), max: r(s.max), mean: r(s.mean) };
}
