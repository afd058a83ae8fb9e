/**
 * sensitivity: the LTE-M model alone (no platform, no sockets): the headline answers of the base
 * model with both session strategies, then every assumption at each end of its range
 * (sensitivity.ts). Prints the answers and what moves them; `--report DIR` writes result.json and
 * report.html.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_DEFAULTS, runSensitivity } from '../sensitivity.js';
import { renderSensitivityHtml, sensitivityLines } from '../sensitivity-report.js';
import type { ScenarioContext, ScenarioOutcome } from './types.js';

export interface SensitivityOptions {
  /** Presses drawn per coverage level and variation. */
  samples: number;
  seed: number;
  batteryMah: number;
  pressesPerDay: number;
  selfTestsPerDay: number;
  report?: string;
  json: boolean;
}

export async function runSensitivityScenario(options: SensitivityOptions, context: ScenarioContext): Promise<ScenarioOutcome> {
  const startedAt = new Date().toISOString();
  const config = { ...MODEL_DEFAULTS, usage: { batteryMah: options.batteryMah, pressesPerDay: options.pressesPerDay, selfTestsPerDay: options.selfTestsPerDay } };
  const result = runSensitivity(options.samples, options.seed, config);
  for (const line of sensitivityLines(result)) context.reporter.line(line);
  const document = { scenario: 'sensitivity', startedAt, ...result };
  if (options.report) {
    await mkdir(options.report, { recursive: true });
    const json = join(options.report, 'result.json');
    const html = join(options.report, 'report.html');
    await writeFile(json, `${JSON.stringify(document, roundFigures, 2)}\n`);
    await writeFile(html, renderSensitivityHtml(result, startedAt));
    context.reporter.line(`report    ${html}  (${json})`);
  }
  return { exitCode: 0, result: document };
}

/** Four significant digits are plenty for a model's figures (and keep result.json readable). */
function roundFigures(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value;
}
