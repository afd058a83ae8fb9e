import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { energySection } from './scenarios/fleet.js';
import { evaluateObjectives, summarizeByProfile, type PressSample } from './measure.js';
import { PROFILES } from './network.js';
import { niceMax, renderHtml, writeReport, type RunReport } from './report.js';

function sample(profile: 'good' | 'poor', receivedMs: number, extra: Partial<PressSample> = {}): PressSample {
  return {
    deviceId: `dev-${profile}`,
    profile,
    seq: 1,
    atMs: 0,
    outcome: 'received',
    receivedMs,
    cicMs: receivedMs - 50,
    acceptedMs: receivedMs + 2000,
    dispatchedMs: receivedMs + 4000,
    retransmissions: 0,
    duplicated: false,
    ...extra,
  };
}

function report(): RunReport {
  const samples = [sample('good', 800), sample('good', 1200), sample('poor', 9000), sample('poor', 14_000), sample('poor', 21_000)];
  const summary = summarizeByProfile(samples);
  return {
    title: 'test <run> & "report"',
    scenario: 'burst',
    startedAt: '2026-11-23T12:00:00.000Z',
    settings: { devices: 5 },
    profiles: { good: PROFILES.good, poor: PROFILES.poor },
    summary,
    samples,
    objectives: evaluateObjectives(samples, { cicWatched: true }),
    ok: false,
    energy: energySection({ batteryMah: 1000, pressesPerDay: 1 / 7, selfTestsPerDay: 1 }, ['good', 'poor']),
    notes: ['a note with <angle brackets>'],
  };
}

describe('report', () => {
  const html = renderHtml(report());

  it('is one self-contained HTML document: no script, no external URL, no linked resource', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|\ssrc=|\shref=|url\(|@import/i);
  });

  it('draws the charts as inline SVG: a distribution per stage, success within 10/15 s, battery life', () => {
    expect((html.match(/<svg /g) ?? []).length).toBe((html.match(/<\/svg>/g) ?? []).length);
    for (const chart of ['cdf-receivedMs', 'cdf-cicMs', 'cdf-acceptedMs', 'cdf-dispatchedMs', 'bars', 'line']) {
      expect(html).toContain(`data-chart="${chart}"`);
    }
    expect(html).toContain('within 10 s');
    expect(html).toContain('Battery life against heartbeat interval');
  });

  it('escapes text that comes from the run', () => {
    expect(html).toContain('test &lt;run&gt; &amp; &quot;report&quot;');
    expect(html).not.toContain('<angle brackets>');
  });

  it('states the objectives and the verdict', () => {
    expect(html).toContain('objectives missed');
    expect(html).toMatch(/poor: &quot;received&quot; within 30 s/);
  });

  it('writes result.json and report.html', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'amr-report-'));
    const files = await writeReport(dir, report());
    expect(JSON.parse(await readFile(files.json, 'utf8')).scenario).toBe('burst');
    expect(await readFile(files.html, 'utf8')).toBe(html);
  });

  it('rounds chart axes to 1, 2 or 5 × 10^k', () => {
    expect([0.3, 1, 1.2, 3, 7, 12, 4500].map(niceMax)).toEqual([0.5, 1, 2, 5, 10, 20, 5000]);
  });
});
