import { describe, expect, it } from '@jest/globals';
import { evaluateTargets, type TargetInputs } from './bench-targets.js';
import { summarize } from './stats.js';

const lat = (p50: number, p99: number) => ({ ...summarize([p50]), p50, p99 });
const verdict = (rows: ReturnType<typeof evaluateTargets>, start: string) => rows.find((r) => r.target.startsWith(start))?.verdict;

describe('evaluateTargets', () => {
  const full: TargetInputs = {
    devices: 10_000,
    rate: 1000,
    operator: false,
    receivedMs: lat(1.1, 4),
    cicMs: lat(1.5, 7.5),
    durablePerS: 999,
    lost: 0,
    duplicated: 0,
    echoMs: lat(0.2, 1),
  };

  it('holds press → received p99 to 5 × the echo p99 at 1,000 presses/s with 10,000 devices', () => {
    expect(verdict(evaluateTargets(full), 'press → received p99')).toBe('met');
    expect(verdict(evaluateTargets({ ...full, receivedMs: lat(1.1, 5.01) }), 'press → received p99')).toBe('missed');
    expect(verdict(evaluateTargets({ ...full, devices: 9_999 }), 'press → received p99')).toBe('not measured');
    const noBaseline = evaluateTargets({ ...full, echoMs: undefined } as TargetInputs);
    expect(verdict(noBaseline, 'press → received p99')).toBe('not measured');
    expect(noBaseline[0]!.measured).toMatch(/no --baseline/);
  });

  it('holds p50 ≤ 2 ms only at a low rate', () => {
    expect(verdict(evaluateTargets(full), 'press → received p50')).toBe('not measured');
    expect(verdict(evaluateTargets({ ...full, rate: 50 }), 'press → received p50')).toBe('met');
    expect(verdict(evaluateTargets({ ...full, rate: 50, receivedMs: lat(2.5, 4) }), 'press → received p50')).toBe('missed');
  });

  it('holds 5,000 presses/s durable with nothing lost or duplicated, at an asked rate of 5,000', () => {
    const at5k = { ...full, rate: 5000, durablePerS: 5012 };
    expect(verdict(evaluateTargets(at5k), '≥ 5,000')).toBe('met');
    expect(verdict(evaluateTargets({ ...at5k, lost: 1 }), '≥ 5,000')).toBe('missed');
    expect(verdict(evaluateTargets({ ...at5k, duplicated: 1 }), '≥ 5,000')).toBe('missed');
    expect(verdict(evaluateTargets({ ...at5k, durablePerS: 4200 }), '≥ 5,000')).toBe('missed');
    expect(verdict(evaluateTargets(full), '≥ 5,000')).toBe('not measured');
  });

  it('holds the operator target only with the operator on at ≥ 500 presses/s', () => {
    expect(verdict(evaluateTargets(full), 'simulated operator')).toBe('not measured');
    expect(verdict(evaluateTargets({ ...full, operator: true, rate: 500, durablePerS: 500 }), 'simulated operator')).toBe('met');
    expect(verdict(evaluateTargets({ ...full, operator: true, rate: 500, durablePerS: 500, receivedMs: lat(3, 21) }), 'simulated operator')).toBe('missed');
  });

  it('holds the CIC stream p99 to 8 ms at 1,000 presses/s', () => {
    expect(verdict(evaluateTargets(full), 'press → alarm on the CIC')).toBe('met');
    expect(verdict(evaluateTargets({ ...full, cicMs: lat(2, 9) }), 'press → alarm on the CIC')).toBe('missed');
  });

  it('holds the flooded p99 within 2 × the quiet one', () => {
    expect(verdict(evaluateTargets({ ...full, flood: { quietP99: 4, floodP99: 8, flooded: true } }), 'one device flooding')).toBe('met');
    expect(verdict(evaluateTargets({ ...full, flood: { quietP99: 4, floodP99: 8.1, flooded: true } }), 'one device flooding')).toBe('missed');
    expect(verdict(evaluateTargets({ ...full, flood: { quietP99: 4, floodP99: null, flooded: true } }), 'one device flooding')).toBe('not measured');
    const silent = evaluateTargets({ ...full, flood: { quietP99: 4, floodP99: 4, flooded: false } });
    expect(verdict(silent, 'one device flooding')).toBe('not measured');
    expect(silent.find((r) => r.target.startsWith('one device flooding'))!.measured).toMatch(/could not send/);
    expect(verdict(evaluateTargets(full), 'one device flooding')).toBeUndefined();
  });

  it('holds the storm of 10,000 devices to 10 s, and a partial return as missed', () => {
    expect(verdict(evaluateTargets({ ...full, storm: { devices: 10_000, allConnectedMs: 9_500, reconnected: 10_000 } }), 'reconnect storm')).toBe('met');
    expect(verdict(evaluateTargets({ ...full, storm: { devices: 10_000, allConnectedMs: null, reconnected: 9_990 } }), 'reconnect storm')).toBe('missed');
    expect(verdict(evaluateTargets({ ...full, storm: { devices: 300, allConnectedMs: 2_000, reconnected: 300 } }), 'reconnect storm')).toBe('not measured');
  });

  it('holds idle memory to 20 KiB per device at every measured count', () => {
    const idle = (k: Array<number | null>) => evaluateTargets({ devices: 100_000, idle: k.map((kibPerDevice, i) => ({ devices: 10_000 * (i + 1), kibPerDevice })) });
    expect(verdict(idle([18, 19.9, null]), 'idle memory')).toBe('met');
    expect(verdict(idle([18, 21]), 'idle memory')).toBe('missed');
    expect(verdict(idle([null]), 'idle memory')).toBe('not measured');
    expect(idle([18, null])[0]!.measured).toBe('10000: 18.0 KiB, 20000: not measured');
  });

  it('lists the kill -9 target as not measured in a run without a kill, pointing at --restart-at', () => {
    const row = evaluateTargets({ devices: 1 }).find((r) => r.target.startsWith('kill -9'))!;
    expect(row.verdict).toBe('not measured');
    expect(row.measured).toMatch(/--restart-at/);
    expect(verdict(evaluateTargets(full), 'kill -9')).toBe('not measured');
  });

  it('judges the kill -9 target from a run with a kill: met with the platform back and nothing lost or duplicated', () => {
    const killed = (kill: TargetInputs['kill']) => evaluateTargets({ ...full, rate: 300, devices: 2000, kill }).find((r) => r.target.startsWith('kill -9'))!;
    const met = killed({ atS: 10, downMs: 4250, lost: 0, duplicated: 0 });
    expect(met.verdict).toBe('met');
    expect(met.measured).toBe('killed at 10.0 s of 300 presses/s, 2000 devices: back after 4.25 s; 0 lost, 0 duplicated');
    expect(killed({ atS: 10, downMs: 4250, lost: 3, duplicated: 0 }).verdict).toBe('missed');
    expect(killed({ atS: 10, downMs: 4250, lost: 0, duplicated: 1 }).verdict).toBe('missed');
    const notBack = killed({ atS: 10, downMs: null, lost: 0, duplicated: 0 });
    expect(notBack.verdict).toBe('missed');
    expect(notBack.measured).toMatch(/did not come back/);
  });
});
