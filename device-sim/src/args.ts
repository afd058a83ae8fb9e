/**
 * Command-line parsing (node:util parseArgs). `parseCli` is pure: argv and environment in, a
 * command out, a UsageError (exit code 2) for anything wrong. Each scenario has its own option
 * set and parser; adding one means a SCENARIOS entry, a parser here and a module in scenarios/.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isDeviceId, type AlarmKind, type Encoding } from '@amr/protocol';
import { parseMqttList, parseUrlList } from './endpoints.js';
import { defaultStateDir } from './state.js';
import type { SensitivityOptions } from './scenarios/sensitivity.js';
import { FLEET_OPTIONS, FLEET_USAGE, fleetOptions, type Checkers, type FleetOptions, type FleetScenario, type FleetValues } from './fleet-args.js';

/** A command line that cannot be run: print `message` and the usage text, exit 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

export const SCENARIOS = {
  press: 'one button presses (with --device/--api: the detailed single-device run below)',
  fleet: 'a steady fleet of N devices heartbeating, with presses spread over the run',
  burst: 'a burst of M presses within S seconds',
  coverage: 'poor coverage: deep indoor profile, every device loses coverage once',
  restart: 'the platform is killed (SIGKILL) in the middle of a run and started again',
  bench: 'thousands of directly connected devices: platform latency, throughput, RSS (and --baseline)',
  failover: 'two nodes, devices with both as broker endpoints; a node is killed every few seconds',
  sensitivity: 'the LTE-M model alone: the headline answers and what moves them (no platform)',
} as const;
export type ScenarioName = keyof typeof SCENARIOS;

const DEFAULT_ENCODING: Encoding = 'cbor';
const DEFAULT_KIND: AlarmKind = 'panic';

export const DEFAULTS = Object.freeze({
  mqttUrl: 'mqtt://127.0.0.1:1883',
  encoding: DEFAULT_ENCODING,
  cicId: 'cic-antwerpen',
  presses: 1,
  kind: DEFAULT_KIND,
  timeoutS: 10,
  retransmitMs: 2000,
  intervalMs: 0,
  lat: 51.2194, // Antwerp
  lon: 4.4025,
  acc: 25,
  bat: 87,
});

export const USAGE = `Usage: npm run -s sim -- <scenario> [options]
       node dist/device-sim/src/cli.js <scenario> [options]

Scenarios:
${Object.entries(SCENARIOS)
  .map(([name, text]) => `  ${name.padEnd(10)} ${text}`)
  .join('\n')}

Credentials (one of):
  --device ID --secret S       an already provisioned device
  --api URL --token TOKEN      provision a new case and device through the HTTP API
                               (--token defaults to $AMR_ADMIN_TOKEN)
  --cic ID                     home CIC of the provisioned case (default ${DEFAULTS.cicId})

Options of press:
  --mqtt URL[,URL…]            broker, or the button's ordered list of brokers: a connection that fails
                               or is lost moves it on to the next (default ${DEFAULTS.mqttUrl})
  --encoding cbor|json         payload encoding (default ${DEFAULTS.encoding})
  --presses N                  sequential presses (default ${DEFAULTS.presses})
  --interval-ms MS             pause between presses (default ${DEFAULTS.intervalMs})
  --kind panic|test            alarm kind (default ${DEFAULTS.kind})
  --operator                   after each press act as the CIC operator through the API
                               (accept, dispatch, close; needs --api and --token)
  --timeout S                  give up on a press (or an operator stage) after S s (default ${DEFAULTS.timeoutS})
  --retransmit-ms MS           resend the same press until "received" (default ${DEFAULTS.retransmitMs}, 0: never)
  --lat DEG --lon DEG          position sent with the press (default ${DEFAULTS.lat}, ${DEFAULTS.lon})
  --bat PERCENT                battery (default ${DEFAULTS.bat})
  --state-dir DIR              where the seq counter is kept (default ~/.amr-device-sim)
  --json                       print one JSON result on stdout (human lines go to stderr)
  -h, --help                   this text

Exit codes: 0 every press got "received", 1 otherwise or on an error, 2 bad command line.

${FLEET_USAGE}
Options of sensitivity (docs/lte-m-model.md):
  --samples N                  presses drawn per coverage level and variation (default 2000)
  --battery-mah N              battery capacity (default 1000)
  --presses-per-day N          presses that open an alarm, per day (default 1/7 ≈ 0.14)
  --self-tests-per-day N       self-tests per day (default 1)
  --seed N  --report DIR  --json
`;

export type Credentials =
  | { mode: 'device'; deviceId: string; secret: string }
  | { mode: 'provision'; cicId: string };

export interface PressOptions {
  credentials: Credentials;
  /** The HTTP API, for provisioning and/or --operator. */
  api?: { url: string; token: string };
  /** The first broker of `mqttUrls`. */
  mqttUrl: string;
  /** The button's ordered list of brokers (CONTRACT §1). */
  mqttUrls: string[];
  encoding: Encoding;
  presses: number;
  intervalMs: number;
  kind: AlarmKind;
  operator: boolean;
  timeoutMs: number;
  retransmitMs: number;
  lat: number;
  lon: number;
  acc: number;
  bat: number;
  stateDir: string;
  json: boolean;
}

export type CliCommand =
  | { command: 'help' }
  | { command: 'run'; scenario: 'press'; options: PressOptions }
  | { command: 'run'; scenario: 'fleet-run'; options: FleetOptions }
  | { command: 'run'; scenario: 'sensitivity'; options: SensitivityOptions };

const PRESS_OPTIONS = {
  device: { type: 'string' },
  secret: { type: 'string' },
  api: { type: 'string' },
  token: { type: 'string' },
  cic: { type: 'string' },
  mqtt: { type: 'string' },
  encoding: { type: 'string' },
  presses: { type: 'string' },
  'interval-ms': { type: 'string' },
  kind: { type: 'string' },
  operator: { type: 'boolean' },
  timeout: { type: 'string' },
  'retransmit-ms': { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  bat: { type: 'string' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Parses `argv` (without node and the script); throws UsageError. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliCommand {
  const first = argv[0];
  if (first === undefined) throw new UsageError('no scenario given');
  if (first === '-h' || first === '--help' || first === 'help') return { command: 'help' };
  if (first.startsWith('-')) throw new UsageError(`the scenario comes first, got ${first}`);
  if (!Object.hasOwn(SCENARIOS, first)) throw new UsageError(`unknown scenario: ${first}`);
  const scenario = first as ScenarioName;
  const rest = argv.slice(1);
  // press with credentials (--device, or --api to provision one) is the detailed single-device
  // run; everything else goes through the fleet engine (its own platform unless --api)
  const credentialed = rest.some((a) => /^--(device|secret|operator|cic|kind|interval-ms|lat|lon|bat)(=|$)/.test(a)) ||
    (rest.some((a) => /^--api(=|$)/.test(a)) && !rest.some((a) => /^--(profile|report|devices|seconds|heartbeat|mtls)(=|$)/.test(a)));
  if (scenario === 'press' && credentialed) {
    const values = parse(rest, PRESS_OPTIONS);
    if (values.help) return { command: 'help' };
    return { command: 'run', scenario, options: pressOptions(values, env) };
  }
  if (scenario === 'sensitivity') {
    const values = parse(rest, SENSITIVITY_OPTIONS);
    if (values.help) return { command: 'help' };
    return { command: 'run', scenario, options: sensitivityOptions(values) };
  }
  const values = parse(rest, FLEET_OPTIONS) as FleetValues;
  if (values.help) return { command: 'help' };
  return { command: 'run', scenario: 'fleet-run', options: fleetOptions(scenario as FleetScenario, values, env, CHECKERS) };
}

const CHECKERS: Checkers = {
  number,
  integer,
  httpUrl,
  oneOf,
  mqttUrl: (value) => mqttUrl(value),
  mqttUrls: (value) => parseMqttList(value, mqttUrl, CHECKERS.fail),
  httpUrls: (value) => parseUrlList('--api', value, httpUrl, CHECKERS.fail),
  fail: (message) => {
    throw new UsageError(message);
  },
};

type PressValues = ReturnType<typeof parse<typeof PRESS_OPTIONS>>;

const SENSITIVITY_OPTIONS = {
  samples: { type: 'string' },
  seed: { type: 'string' },
  'battery-mah': { type: 'string' },
  'presses-per-day': { type: 'string' },
  'self-tests-per-day': { type: 'string' },
  report: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

function sensitivityOptions(v: ReturnType<typeof parse<typeof SENSITIVITY_OPTIONS>>): SensitivityOptions {
  return {
    samples: integer('--samples', v.samples, 2000, 10, 1_000_000),
    seed: integer('--seed', v.seed, 1, 0, 2 ** 32 - 1),
    batteryMah: number('--battery-mah', v['battery-mah'], 1000, 1, 1_000_000),
    pressesPerDay: number('--presses-per-day', v['presses-per-day'], 1 / 7, 0, 1000),
    selfTestsPerDay: number('--self-tests-per-day', v['self-tests-per-day'], 1, 0, 1000),
    ...(v.report !== undefined ? { report: v.report } : {}),
    json: v.json ?? false,
  };
}

function pressOptions(v: PressValues, env: NodeJS.ProcessEnv): PressOptions {
  const token = v.token ?? (env['AMR_ADMIN_TOKEN'] || undefined);
  const api = v.api === undefined ? undefined : { url: httpUrl(v.api), token: required(token, '--api needs --token (or AMR_ADMIN_TOKEN)') };
  if (v.token !== undefined && v.api === undefined) throw new UsageError('--token needs --api');

  let credentials: Credentials;
  if (v.device !== undefined || v.secret !== undefined) {
    const deviceId = required(v.device, '--secret needs --device');
    const secret = required(v.secret, '--device needs --secret');
    if (!isDeviceId(deviceId)) throw new UsageError(`--device: not a device id (^[A-Za-z0-9_-]{3,64}$): ${deviceId}`);
    if (v.cic !== undefined) throw new UsageError('--cic is only used when provisioning (--api without --device)');
    credentials = { mode: 'device', deviceId, secret };
  } else if (api !== undefined) {
    credentials = { mode: 'provision', cicId: v.cic ?? DEFAULTS.cicId };
    if (credentials.cicId === '') throw new UsageError('--cic: empty');
  } else {
    throw new UsageError('credentials needed: --device ID --secret S, or --api URL --token TOKEN');
  }
  if (v.operator && api === undefined) throw new UsageError('--operator needs --api and --token');

  const mqttUrls = parseMqttList(v.mqtt ?? DEFAULTS.mqttUrl, mqttUrl, CHECKERS.fail);
  return {
    credentials,
    ...(api ? { api } : {}),
    mqttUrl: mqttUrls[0]!,
    mqttUrls,
    encoding: oneOf('--encoding', v.encoding, ['cbor', 'json'] as const, DEFAULTS.encoding),
    presses: integer('--presses', v.presses, DEFAULTS.presses, 1, 1_000_000),
    intervalMs: integer('--interval-ms', v['interval-ms'], DEFAULTS.intervalMs, 0, 86_400_000),
    kind: oneOf('--kind', v.kind, ['panic', 'test'] as const, DEFAULTS.kind),
    operator: v.operator ?? false,
    timeoutMs: Math.round(number('--timeout', v.timeout, DEFAULTS.timeoutS, 0.001, 86_400) * 1000),
    retransmitMs: integer('--retransmit-ms', v['retransmit-ms'], DEFAULTS.retransmitMs, 0, 86_400_000),
    lat: number('--lat', v.lat, DEFAULTS.lat, -90, 90),
    lon: number('--lon', v.lon, DEFAULTS.lon, -180, 180),
    acc: DEFAULTS.acc,
    bat: integer('--bat', v.bat, DEFAULTS.bat, 0, 100),
    stateDir: v['state-dir'] ?? defaultStateDir(),
    json: v.json ?? false,
  };
}

// ---- helpers (shared by every scenario's parser) ---------------------------------------------

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: O) {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeNumbers(args, options), options, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    return values;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // node:util's messages are already precise ("Unknown option '--x'", "Option '--presses
    // <value>' argument missing"); keep the first line
    throw new UsageError(String((error as Error).message).split('\n')[0]!.replace(/\.$/, ''));
  }
}

/** `--lat -33.9` → `--lat=-33.9`: parseArgs would take `-33.9` for an option and refuse it. */
function joinNegativeNumbers(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function required(value: string | undefined, message: string): string {
  if (value === undefined) throw new UsageError(message);
  return value;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${name}: must be ${allowed.join(' or ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function number(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name}: must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`${name}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${name}: must be a whole number from ${min} to ${max}, got ${value}`);
  return n;
}

function mqttUrl(value: string): string {
  const url = tryUrl('--mqtt', value);
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new UsageError(`--mqtt: must be an mqtt://, mqtts://, ws:// or wss:// URL, got ${value}`);
  }
  return value;
}

function httpUrl(value: string): string {
  const url = tryUrl('--api', value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--api: must be an http:// or https:// URL, got ${value}`);
  return value.replace(/\/+$/, ''); // paths are appended: http://host:3000/ + /api/v1/…
}

function tryUrl(name: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new UsageError(`${name}: not a URL: ${value}`);
  }
}
