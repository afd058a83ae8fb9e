/**
 * The CIC operator's side of one alarm, through the HTTP API (CONTRACT §4): accept, dispatch,
 * close — each as soon as the device got the ack of the previous one, so that every stage of
 * CONTRACT §3 ack is exercised end to end.
 */
import type { AckStage, AlarmKind } from '@amr/protocol';
import { ApiError, type ApiClient } from './api.js';
import type { AckEvent, Button } from './button.js';

export interface OperatorStep {
  action: 'accept' | 'dispatch' | 'close';
  body: Record<string, unknown>;
  /** The ack stage the device must get for it. */
  stage: AckStage;
}

export const OPERATOR_STEPS: readonly OperatorStep[] = Object.freeze([
  { action: 'accept', body: {}, stage: 'accepted' },
  { action: 'dispatch', body: { unit: 'SIM-1', etaMin: 5 }, stage: 'dispatched' },
  { action: 'close', body: { outcome: 'simulated' }, stage: 'closed' },
]);

/** A self-test alarm goes the whole way but is never dispatched (CONTRACT §3 alarm `kind`). */
export function operatorSteps(kind: AlarmKind): readonly OperatorStep[] {
  return kind === 'test' ? OPERATOR_STEPS.filter((s) => s.action !== 'dispatch') : OPERATOR_STEPS;
}

export interface OperatorStepResult {
  action: OperatorStep['action'];
  stage: AckStage;
  ok: boolean;
  httpStatus?: number;
  /** HTTP request → response, ms. */
  httpMs?: number;
  /** HTTP request sent → the device got the ack, ms. */
  ackMs?: number;
  error?: string;
}

export interface OperatorOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called after each step, e.g. to print it. */
  onStep?: (step: OperatorStepResult) => void;
}

/** Runs the steps for one alarm; stops at the first step that fails (HTTP error or no ack in time). */
export async function operateAlarm(
  button: Button,
  api: ApiClient,
  alarm: { id: string; seq: number; kind: AlarmKind },
  options: OperatorOptions,
): Promise<OperatorStepResult[]> {
  const results: OperatorStepResult[] = [];
  const matches = (stage: AckStage) => (e: AckEvent) =>
    e.ack.stage === stage && (e.ack.alarm === alarm.id || (e.ack.alarm === undefined && e.ack.seq === alarm.seq));
  for (const step of operatorSteps(alarm.kind)) {
    if (options.signal?.aborted) break;
    const since = button.acks.length; // the ack may well arrive before the HTTP response
    const started = performance.now();
    let result: OperatorStepResult;
    try {
      const call = await api.post(`/api/v1/alarms/${encodeURIComponent(alarm.id)}/${step.action}`, step.body);
      const ack = await button.waitForAck(matches(step.stage), {
        timeoutMs: options.timeoutMs,
        since,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      result = { action: step.action, stage: step.stage, ok: ack !== undefined, httpStatus: call.status, httpMs: call.ms };
      if (ack) result.ackMs = ack.at - started;
      else if (!options.signal?.aborted) result.error = `no "${step.stage}" ack within ${options.timeoutMs} ms`;
      else result.error = 'interrupted';
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      result = { action: step.action, stage: step.stage, ok: false, error: error.message };
      if (error.status !== null) result.httpStatus = error.status;
    }
    results.push(result);
    options.onStep?.(result);
    if (!result.ok) break;
  }
  return results;
}
