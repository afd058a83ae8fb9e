import type { Reporter } from '../output.js';

export interface ScenarioContext {
  reporter: Reporter;
  /** Aborted on Ctrl-C: finish what is in flight, print the summary, stop. */
  signal: AbortSignal;
}

export interface ScenarioOutcome {
  /** 0 success, 1 failure, 130 interrupted. */
  exitCode: number;
  /** The --json document. */
  result: unknown;
}
