import type { Reporter } from '../output.js';
import type { HostOptions, PlatformHandle } from '../platform-host.js';

export interface ScenarioContext {
  reporter: Reporter;
  /** Aborted on Ctrl-C: finish what is in flight, print the summary, stop. */
  signal: AbortSignal;
  /** How a scenario starts its own platform (default: the real app as a child process; tests: in-process). */
  startPlatform?: (options: HostOptions) => Promise<PlatformHandle>;
}

export interface ScenarioOutcome {
  /** 0 success, 1 failure (an objective missed), 130 interrupted. */
  exitCode: number;
  /** The --json document. */
  result: unknown;
}
