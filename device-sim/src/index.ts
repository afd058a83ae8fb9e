/**
 * The device simulator's building blocks, for tests and scenarios that do not go through the CLI.
 */
export { ApiClient, ApiError, serverMessage, type ApiCall, type FetchLike } from './api.js';
export {
  DEFAULTS,
  SCENARIOS,
  USAGE,
  UsageError,
  parseCli,
  type CliCommand,
  type Credentials,
  type PressOptions,
  type ScenarioName,
} from './args.js';
export {
  Button,
  CONNACK_REASONS,
  ConnectError,
  RefusedError,
  type AckEvent,
  type ButtonConfig,
  type ButtonEvents,
  type PressOutcome,
  type PressParams,
  type PressResult,
} from './button.js';
export { OPERATOR_STEPS, operateAlarm, operatorSteps, type OperatorStep, type OperatorStepResult } from './operator.js';
export { Reporter, formatAck, formatSummary, type PressCounts } from './output.js';
export { provisionDevice, type ProvisionedDevice, type ProvisionOptions } from './provision.js';
export { runScenario, type ScenarioContext, type ScenarioOutcome } from './scenarios/index.js';
export { countPresses, runPress, type PressRecord, type PressRunResult } from './scenarios/press.js';
export { SeqStore, StateFileError, defaultStateDir, type DeviceState } from './state.js';
export { percentile, summarize, type LatencySummary } from './stats.js';
export { FAILOVER_DEFAULTS, runFailover, type FailoverOptions, type FailoverResult } from './scenarios/failover.js';
export { startCluster, waitHealthy, type Cluster, type ClusterNode, type ClusterOptions } from './cluster-host.js';
