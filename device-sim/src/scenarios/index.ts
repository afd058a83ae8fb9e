/** The scenarios the CLI can run, by name (see args.ts SCENARIOS for their descriptions). */
import type { CliCommand } from '../args.js';
import { runPress } from './press.js';
import type { ScenarioContext, ScenarioOutcome } from './types.js';

export type { ScenarioContext, ScenarioOutcome } from './types.js';

export function runScenario(command: Extract<CliCommand, { command: 'run' }>, context: ScenarioContext): Promise<ScenarioOutcome> {
  switch (command.scenario) {
    case 'press':
      return runPress(command.options, context);
  }
}
