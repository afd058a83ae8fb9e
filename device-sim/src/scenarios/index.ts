/** The scenarios the CLI can run, by name (see args.ts SCENARIOS for their descriptions). */
import type { CliCommand } from '../args.js';
import { runBench } from './bench.js';
import { runFleet } from './fleet.js';
import { runPress } from './press.js';
import type { ScenarioContext, ScenarioOutcome } from './types.js';

export type { ScenarioContext, ScenarioOutcome } from './types.js';

export function runScenario(command: Extract<CliCommand, { command: 'run' }>, context: ScenarioContext): Promise<ScenarioOutcome> {
  switch (command.scenario) {
    case 'press':
      return runPress(command.options, context);
    case 'fleet-run':
      return command.options.scenario === 'bench' ? runBench(command.options, context) : runFleet(command.options, context);
  }
}
