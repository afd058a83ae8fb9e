/** The scenarios the CLI can run, by name (see args.ts SCENARIOS for their descriptions). */
import type { CliCommand } from '../args.js';
import { runBench } from './bench.js';
import { runFailoverScenario } from './failover.js';
import { runFleet } from './fleet.js';
import { runPress } from './press.js';
import { runSensitivityScenario } from './sensitivity.js';
import type { ScenarioContext, ScenarioOutcome } from './types.js';

export type { ScenarioContext, ScenarioOutcome } from './types.js';

export function runScenario(command: Extract<CliCommand, { command: 'run' }>, context: ScenarioContext): Promise<ScenarioOutcome> {
  switch (command.scenario) {
    case 'press':
      return runPress(command.options, context);
    case 'sensitivity':
      return runSensitivityScenario(command.options, context);
    case 'fleet-run':
      if (command.options.scenario === 'bench') return runBench(command.options, context);
      if (command.options.scenario === 'failover') return runFailoverScenario(command.options, context);
      return runFleet(command.options, context);
  }
}
