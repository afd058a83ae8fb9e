import { describe, expect, it } from '@jest/globals';
import { seededRandom } from './network.js';
import { PRESS_DEFAULTS, levelLatencies, sessionSetupMs, trafficAt } from './press-model.js';
import { radioAt } from './coverage.js';
import { renderSensitivityHtml } from './sensitivity-report.js';
import { ASSUMPTIONS, DEPTH_TARGETS, depthSweep, runSensitivity, ranked } from './sensitivity.js';

describe('press model', () => {
  it('acks a press in normal coverage within a second, and deep CE mode B more slowly', () => {
    const l = levelLatencies(PRESS_DEFAULTS, 500, seededRandom(1));
    expect(l.normal.p50Ms).toBeLessThan(1000);
    expect(l.normal.within10s).toBe(1);
    expect(l['ce-b'].p50Ms).toBeGreaterThan(l['ce-a'].p50Ms);
    expect(l['ce-b'].within10s).toBeLessThan(1);
  });

  it('makes a TLS reconnect at every press cost tens of seconds in CE mode B, under a second in normal coverage', () => {
    expect(sessionSetupMs(radioAt(134), PRESS_DEFAULTS)).toBeLessThan(1000);
    expect(sessionSetupMs(radioAt(164), PRESS_DEFAULTS)).toBeGreaterThan(30_000);
    const reconnect = levelLatencies({ ...PRESS_DEFAULTS, session: 'reconnect' }, 500, seededRandom(1));
    const keepalive = levelLatencies(PRESS_DEFAULTS, 500, seededRandom(1));
    expect(reconnect['ce-b'].within15s).toBeLessThan(keepalive['ce-b'].within15s);
  });

  it('charges the energy model the radio times of the level', () => {
    expect(trafficAt('ce-b').wakeS).toBeGreaterThan(trafficAt('normal').wakeS);
    expect(trafficAt('ce-b').gnssFixProbability).toBeLessThan(trafficAt('normal').gnssFixProbability);
  });
});

describe('sensitivity analysis', () => {
  const result = runSensitivity(200, 7);

  it('varies every assumption, and is reproducible for a seed', () => {
    expect(result.variations.map((v) => v.assumption.key)).toEqual(ASSUMPTIONS.map((a) => a.key));
    expect(runSensitivity(200, 7).baseMetrics).toEqual(result.baseMetrics);
  });

  it('shows the NAT timeout moving battery life and not the latency', () => {
    const life = ranked(result, (m) => m.lifeDays.normal).map((r) => r.variation.assumption.key);
    expect(life).toContain('nat');
    const latency = ranked(result, (m) => m.within10s['ce-b']).map((r) => r.variation.assumption.key);
    expect(latency).not.toContain('nat');
    expect(latency).toContain('outage-share');
  });

  it('draws a tornado chart per headline answer in a self-contained page', () => {
    const html = renderSensitivityHtml(result, '2026-12-01T00:00:00.000Z');
    expect(html).toContain('data-chart="tornado-w10-ce-b"');
    expect(html).toContain('data-chart="tornado-life-normal"');
    expect(html).toContain('data-chart="line"');
    expect(html).not.toMatch(/https?:\/\/|<script|<link|<img/i);
  });
});

describe('how deep the targets hold', () => {
  const depth = depthSweep(PRESS_DEFAULTS, 2000, 3);

  it('sweeps every whole dB from the edge of normal coverage to the MCL', () => {
    expect(depth.rows.map((r) => r.couplingLossDb)).toEqual(Array.from({ length: 21 }, (_, i) => 144 + i));
    expect(depth.rows.find((r) => r.couplingLossDb === 150)!.level).toBe('ce-a');
    expect(depth.rows.find((r) => r.couplingLossDb === 160)!.level).toBe('ce-b');
  });

  it('finds the targets met in CE mode A and missed at the MCL, deeper by the radio alone than with the outages', () => {
    expect(depth.deepestMet).not.toBeNull();
    expect(depth.deepestMet!).toBeGreaterThanOrEqual(150);
    expect(depth.deepestMet!).toBeLessThan(164);
    expect(depth.deepestMetByRadio!).toBeGreaterThanOrEqual(depth.deepestMet!);
    const mcl = depth.rows.at(-1)!;
    expect(mcl.within10s).toBeLessThan(DEPTH_TARGETS.within10s);
    // the outages only take presses away
    for (const r of depth.rows) expect(r.within15s).toBeLessThanOrEqual(r.radioWithin15s + 0.02);
  });

  it('says it in the report', () => {
    const html = renderSensitivityHtml({ ...runSensitivity(100, 7), depth }, '2026-11-30T00:00:00Z');
    expect(html).toContain('How deep the targets hold');
    expect(html).toContain(`down to ${depth.deepestMet} dB as modelled`);
  });
});
