/**
 * Options of the fleet scenarios (press without credentials, fleet, burst, coverage, restart,
 * bench, failover): one option set, per-scenario defaults. Pure, like args.ts.
 */
import type { Encoding } from '@amr/protocol';
import { isProfileName, PROFILE_NAMES, type ProfileName } from './network.js';
import { defaultStateDir } from './state.js';

export const FLEET_SCENARIOS = ['press', 'fleet', 'burst', 'coverage', 'restart', 'bench', 'failover'] as const;
export type FleetScenario = (typeof FLEET_SCENARIOS)[number];

export interface FleetOptions {
  scenario: FleetScenario;
  devices: number;
  presses: number;
  /** Length of the load phase, s. */
  seconds: number;
  profiles: ProfileName[];
  api?: { url: string; token: string };
  /** failover with --api: every node's HTTP API, in node order (`api.url` is the first). */
  apiUrls?: string[];
  /** The first broker of `mqttUrls`. */
  mqttUrl?: string;
  /** With --api: the buttons' ordered list of brokers (CONTRACT §1); failover: one per node. */
  mqttUrls?: string[];
  /**
   * The buttons connect with TLS (mqtts://, the certificate verified): to the started platform's
   * TLS listener, or with --api to an mqtts:// --mqtt broker.
   */
  tls: boolean;
  /**
   * --mtls (TLS too): every button makes a key and CSR, gets its client certificate through the API
   * at provisioning and connects with it and no password. A started platform gets a throwaway
   * device CA; a given one (--api) must have one (TLS_DEVICE_CA, TLS_DEVICE_CA_KEY).
   */
  mtls?: boolean;
  /** --api with TLS: the CA certificate (PEM file) to verify the broker with; default: the system's. */
  caFile?: string;
  report?: string;
  baseline?: string;
  heartbeatS: number;
  locEveryS: number;
  operator: { acceptMs: number; dispatchMs: number; closeMs: number } | null;
  timeoutS: number;
  retransmitMs: number;
  seed: number;
  stateDir: string;
  json: boolean;
  encoding: Encoding;
  databaseUrl?: string;
  dataDir?: string;
  /** bench: presses per second over the fleet. */
  rate: number;
  batteryMah: number;
  /** Energy model: presses that open an alarm, per day. */
  pressesPerDay: number;
  /** Energy model: self-tests (a short uplink), per day. */
  selfTestsPerDay: number;
  /**
   * restart: when the platform is killed, s into the load phase (default half-way). bench: the
   * same, only when --restart-at is given (undefined: no kill).
   */
  restartAtS?: number;
  /** coverage: length of the forced coverage gap each device goes through, s. */
  gapS: number;
  /** bench: loopback source addresses to spread connections over (0: one per 1,000 devices). */
  addresses: number;
  connectConcurrency: number;
  /** bench: echo samples against the baseline broker. */
  baselineSamples: number;
  /** bench: a quiet phase, then the same load while one device floods alarms and SUBSCRIBEs. */
  flood: boolean;
  /** bench: every device drops its connection at once, a third into the load phase, and reconnects. */
  storm: boolean;
  /** bench: idle memory per connection at these counts (no presses); empty: the press bench. */
  idle: number[];
  /** bench, failover: devices granted to each protection case the run creates. */
  devicesPerCase: number;
  /** failover: platform nodes started (two by default). */
  nodes: number;
  /** failover: a node is killed (SIGKILL, in turn) and restarted every S s; 0: never. */
  killEveryS: number;
  /** failover: Redis (one the scenario starts) is killed and restarted half-way through. */
  killRedis: boolean;
  /** failover: the Redis the started nodes share; default: one the scenario starts. */
  redisUrl?: string;
  verbose: boolean;
  /**
   * fleet, burst, coverage: the SMS path (CONTRACT §6). The scenario runs twice on the same seed,
   * without and with it; in the second run a press without `received` after `smsAfterS` also goes
   * by SMS through the simulated SMS centre and gateway.
   */
  sms: boolean;
  smsAfterS: number;
}

type Defaults = Pick<FleetOptions, 'devices' | 'presses' | 'seconds' | 'profiles' | 'heartbeatS' | 'locEveryS' | 'timeoutS'>;

export const FLEET_DEFAULTS: Readonly<Record<FleetScenario, Defaults>> = Object.freeze({
  press: { devices: 1, presses: 1, seconds: 1, profiles: ['good'], heartbeatS: 5, locEveryS: 5, timeoutS: 60 },
  fleet: { devices: 50, presses: 10, seconds: 30, profiles: ['good'], heartbeatS: 5, locEveryS: 5, timeoutS: 60 },
  burst: { devices: 20, presses: 20, seconds: 5, profiles: ['good'], heartbeatS: 5, locEveryS: 5, timeoutS: 60 },
  coverage: { devices: 10, presses: 10, seconds: 40, profiles: ['poor'], heartbeatS: 5, locEveryS: 5, timeoutS: 90 },
  restart: { devices: 10, presses: 20, seconds: 40, profiles: ['good'], heartbeatS: 5, locEveryS: 5, timeoutS: 90 },
  bench: { devices: 1000, presses: 0, seconds: 60, profiles: [], heartbeatS: 60, locEveryS: 30, timeoutS: 30 },
  failover: { devices: 1000, presses: 2000, seconds: 0, profiles: [], heartbeatS: 60, locEveryS: 30, timeoutS: 30 },
});

export const FLEET_USAGE = `Options of press (without --device), fleet, burst, coverage, restart, bench and failover:
  --devices N                  simulated buttons (defaults: fleet 50, burst = presses, coverage 10, restart 10, bench 1000)
  --presses M                  presses over the run (fleet 10, burst 20, coverage 10, restart 20)
  --seconds S                  length of the load phase (fleet 30, burst 5, coverage 40, restart 40, bench 60)
  --profile P[,P…]             good | urban-indoor | poor | all; devices take them in turn (default good; coverage: poor)
  --api URL --token T          drive a running platform (with --mqtt URL); default: start one (embedded database)
  --mqtt URL[,URL…]            its broker (default mqtt://<api host>:1883; with --tls mqtts://<api host>:8883),
                               or the buttons' ordered list of brokers (a failed or lost connection moves
                               a button on to the next)
  --tls                        buttons connect with TLS (mqtts://, certificate verified); without --api the
                               started platform listens with the committed localhost test certificate
  --mtls                       press, fleet, burst, coverage, restart: TLS, and each button connects with a
                               client certificate instead of its secret: it makes a key and CSR and gets the
                               certificate through the API when provisioned. Without --api the started
                               platform gets a device CA and server certificate made for the run
  --ca FILE                    with --api and an mqtts:// broker: CA certificate (PEM) to verify it with
  --report DIR                 write DIR/result.json and DIR/report.html
  --heartbeat S                heartbeat interval (default 5; bench 60)
  --accept-after S             simulated operator: accept S after the CIC saw the alarm (default 2)
  --dispatch-after S           … dispatch S after accepting (default 2)
  --close-after S              … close S after dispatching (default 2)
  --no-operator                nobody works the alarms (they stay open; bench closes them once measured)
  --timeout S                  a press without "received" after S is lost (default 60; coverage/restart 90)
  --retransmit-ms MS           resend a press until "received" (default 5000)
  --restart-at S               restart: kill -9 the platform S into the run (default: half-way);
                               bench: kill -9 it S into the load phase and start it again on the same
                               database while the devices keep pressing (default: no kill)
  --gap S                      coverage: each device loses coverage once for S (default 10)
  --rate R                     bench, failover: presses per second over the fleet (default 10, failover 50;
                               up to 5,000 and more)
  --baseline mqtt://HOST:PORT  bench: QoS 1 echo round trip against a plain broker, for the ratio
  --flood                      bench: a quiet phase of --seconds, then the same load for --seconds while one
                               more device floods alarms and SUBSCRIBEs at full speed
  --storm                      bench: a third into the load phase every device drops its connection and
                               reconnects at once
  --idle N[,N…]                bench: idle memory per connected device at each count (no presses), for the
                               platform and, with --baseline, for that broker
  --devices-per-case K         bench, failover: devices granted to each protection case it creates (default 10)
  --addresses N                bench: loopback source addresses to spread connections over (default: one per
                               1,000 devices, at most 250)
  --connect-concurrency N      bench: connections being set up at once (default 256)
  --baseline-samples N         bench: QoS 1 echo round trips against --baseline (default 2000)
  --nodes N                    failover: platform nodes to start (default 2)
  --kill-every S               failover: kill -9 a node (in turn) every S s and restart it at once (default
                               15; 0: never)
  --kill-redis                 failover: also kill and restart Redis half-way (a Redis the scenario starts)
  --redis-url URL              failover: the Redis the started nodes share (default: one it starts on an
                               ephemeral port with /usr/bin/redis-server)
  --database-url URL           the started platform uses PostgreSQL (bench: keeps the devices; failover:
                               required without --api, the nodes share it)
  --data-dir DIR               the started platform's embedded database directory
  --sms                        fleet, burst, coverage: run twice on the same seed, without and then with
                               the SMS path (a press without "received" after --sms-after also goes by
                               SMS through a simulated SMS centre and gateway); the report compares them
  --sms-after S                with --sms: the fallback wait (default 8)
  --battery-mah N              energy model: battery capacity (default 1000)
  --presses-per-day N          energy model: presses that open an alarm, per day (default 1/7 ≈ 0.14)
  --self-tests-per-day N       energy model: self-tests (a short uplink) per day (default 1)
  --seed N                     random seed (default 1)
  --state-dir DIR              seq counters and bench devices (default ~/.amr-device-sim)
  --encoding cbor|json         payload encoding (default cbor)
  --json                       print the JSON result on stdout
  --verbose                    print the started platform's output

failover: --api URL,URL… --token T --mqtt URL,URL… (one per node, same order) drives running nodes
(nothing is killed then); --rate (default 50) and --presses (2000) set the load, the run lasts until
every press is sent.

Objectives (exit code 1 when one is missed): no lost, duplicated or rejected press; every
received press seen at the CIC; "received" within 10 s for ≥ 95 % of presses (good,
urban-indoor; poor: within 30 s for ≥ 90 %). bench: no lost press (with --restart-at also: the
platform started again and every device connected again). failover: no lost or duplicated press.
`;

export const FLEET_OPTIONS = {
  devices: { type: 'string' },
  presses: { type: 'string' },
  seconds: { type: 'string' },
  profile: { type: 'string' },
  api: { type: 'string' },
  token: { type: 'string' },
  mqtt: { type: 'string' },
  tls: { type: 'boolean' },
  mtls: { type: 'boolean' },
  ca: { type: 'string' },
  report: { type: 'string' },
  baseline: { type: 'string' },
  heartbeat: { type: 'string' },
  'accept-after': { type: 'string' },
  'dispatch-after': { type: 'string' },
  'close-after': { type: 'string' },
  'no-operator': { type: 'boolean' },
  timeout: { type: 'string' },
  'retransmit-ms': { type: 'string' },
  'restart-at': { type: 'string' },
  gap: { type: 'string' },
  rate: { type: 'string' },
  'database-url': { type: 'string' },
  'data-dir': { type: 'string' },
  'battery-mah': { type: 'string' },
  'presses-per-day': { type: 'string' },
  'self-tests-per-day': { type: 'string' },
  seed: { type: 'string' },
  'state-dir': { type: 'string' },
  encoding: { type: 'string' },
  addresses: { type: 'string' },
  'connect-concurrency': { type: 'string' },
  'baseline-samples': { type: 'string' },
  flood: { type: 'boolean' },
  storm: { type: 'boolean' },
  idle: { type: 'string' },
  'devices-per-case': { type: 'string' },
  nodes: { type: 'string' },
  'kill-every': { type: 'string' },
  'kill-redis': { type: 'boolean' },
  'redis-url': { type: 'string' },
  sms: { type: 'boolean' },
  'sms-after': { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type FleetValues = { [K in keyof typeof FLEET_OPTIONS]?: (typeof FLEET_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export interface Checkers {
  number(name: string, value: string | undefined, fallback: number, min: number, max: number): number;
  integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number;
  httpUrl(value: string): string;
  mqttUrl(value: string): string;
  /** `URL[,URL…]`, each an http(s) URL, no repeats. */
  httpUrls(value: string): string[];
  /** `URL[,URL…]`, each an MQTT URL (endpoints.ts parseMqttList). */
  mqttUrls(value: string): string[];
  oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T;
  fail(message: string): never;
}

export function parseProfiles(value: string | undefined, fallback: readonly ProfileName[], fail: (m: string) => never): ProfileName[] {
  if (value === undefined) return [...fallback];
  if (value === 'all') return [...PROFILE_NAMES];
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) fail('--profile: empty');
  for (const name of names) if (!isProfileName(name)) fail(`--profile: must be ${PROFILE_NAMES.join(', ')} or all, got ${JSON.stringify(name)}`);
  return names as ProfileName[];
}

export function fleetOptions(scenario: FleetScenario, v: FleetValues, env: NodeJS.ProcessEnv, c: Checkers): FleetOptions {
  const d = FLEET_DEFAULTS[scenario];
  const token = v.token ?? (env['AMR_ADMIN_TOKEN'] || undefined);
  if (v.token !== undefined && v.api === undefined) c.fail('--token needs --api');
  if (v.api !== undefined && token === undefined) c.fail('--api needs --token (or AMR_ADMIN_TOKEN)');
  const apiUrls = v.api === undefined ? undefined : c.httpUrls(v.api);
  if (apiUrls && apiUrls.length > 1 && scenario !== 'failover') c.fail('--api: one URL (a list of nodes is for failover)');
  const api = apiUrls === undefined ? undefined : { url: apiUrls[0]!, token: token! };
  if (v.mqtt !== undefined && api === undefined) c.fail('--mqtt needs --api (without --api the simulator starts its own platform)');
  const failover = scenario === 'failover';
  for (const name of ['nodes', 'kill-every', 'kill-redis', 'redis-url'] as const) {
    if (v[name] !== undefined && !failover) c.fail(`--${name} is a failover option`);
  }
  if (api && (v['database-url'] !== undefined || v['data-dir'] !== undefined)) c.fail('--database-url and --data-dir are for a started platform, not with --api');
  if (v.baseline !== undefined && scenario !== 'bench') c.fail('--baseline is a bench option');
  for (const name of ['flood', 'storm', 'idle', 'addresses'] as const) {
    if (v[name] !== undefined && scenario !== 'bench') c.fail(`--${name} is a bench option`);
  }
  for (const name of ['rate', 'devices-per-case'] as const) {
    if (v[name] !== undefined && scenario !== 'bench' && !failover) c.fail(`--${name} is a bench and failover option`);
  }
  if (failover) {
    if (api) {
      if (v.mqtt === undefined) c.fail('failover with --api needs --mqtt URL,URL…: each node\'s broker, in the order of --api');
      for (const name of ['kill-every', 'kill-redis', 'redis-url', 'nodes'] as const) {
        if (v[name] !== undefined) c.fail(`--${name} is for the nodes failover starts itself, not with --api`);
      }
    } else if (v['database-url'] === undefined) {
      c.fail('failover starts several nodes on one database: --database-url postgres://… is needed (the embedded database cannot be shared by two processes)');
    }
    if (v['data-dir'] !== undefined) c.fail('--data-dir: failover nodes share PostgreSQL (--database-url)');
    if (v.seconds !== undefined) c.fail('failover runs until --presses presses are sent at --rate: no --seconds');
    if (v.tls) c.fail('--tls is not a failover option');
    if (v['kill-redis'] && v['redis-url'] !== undefined) c.fail('--kill-redis kills the Redis the scenario starts itself: not with --redis-url');
    if (v['redis-url'] !== undefined && !/^rediss?:\/\//.test(v['redis-url'])) c.fail('--redis-url: must be a redis:// URL');
  }
  const idle = v.idle === undefined ? [] : parseCounts('--idle', v.idle, c.fail);
  if (idle.length && (v.flood || v.storm)) c.fail('--idle measures idle connections: not with --flood or --storm');
  if (idle.length && (v.devices !== undefined || v.rate !== undefined)) c.fail('--idle gives the device counts itself: not with --devices or --rate');
  if (v.sms && !['fleet', 'burst', 'coverage'].includes(scenario)) c.fail('--sms is a fleet, burst and coverage option');
  if (v.sms && api) c.fail('--sms needs the platform the simulator starts (it points the platform at its simulated SMS gateway): not with --api');
  if (v['sms-after'] !== undefined && !v.sms) c.fail('--sms-after needs --sms');
  if (v['restart-at'] !== undefined && scenario !== 'restart' && scenario !== 'bench') c.fail('--restart-at is a restart and bench option');
  if (v.gap !== undefined && scenario !== 'coverage') c.fail('--gap is a coverage option');
  if (scenario === 'restart' && api) c.fail('restart kills the platform: it must be the one the simulator starts (no --api)');
  if (scenario === 'bench' && v['restart-at'] !== undefined) {
    if (api) c.fail('--restart-at kills the platform: it must be the one bench starts (no --api)');
    // one load phase: a kill in the quiet phase would spoil the flood comparison, and a storm is a drop of its own
    if (v.idle !== undefined || v.flood || v.storm) c.fail('--restart-at: a kill during the plain load phase (not with --idle, --flood or --storm)');
  }
  if (scenario === 'bench' && v.profile !== undefined) c.fail('bench measures the platform: devices connect directly (no --profile)');
  if (v['database-url'] !== undefined && !/^postgres(ql)?:\/\//.test(v['database-url'])) c.fail('--database-url: must be a postgres:// URL');
  const baseline = v.baseline === undefined ? undefined : c.mqttUrl(v.baseline);
  if (baseline !== undefined && !/^(mqtt|tcp):\/\//.test(baseline)) c.fail('--baseline: must be an mqtt://HOST:PORT URL');

  const presses = c.integer('--presses', v.presses, d.presses, scenario === 'bench' ? 0 : 1, 1_000_000);
  const devices = idle.length
    ? Math.max(...idle)
    : c.integer('--devices', v.devices, scenario === 'burst' && v.presses !== undefined ? Math.min(presses, 1000) : d.devices, 1, 200_000);
  const seconds = c.number('--seconds', v.seconds, d.seconds, 0.1, 86_400);
  const noOperator = v['no-operator'] ?? false;
  const ms = (name: string, value: string | undefined, fallbackS: number) => Math.round(c.number(name, value, fallbackS, 0, 3600) * 1000);
  if (v.mtls && (scenario === 'bench' || failover)) c.fail(`--mtls is not a ${scenario} option`);
  const wantsTls = v.tls || v.mtls;
  const mqttUrls = api ? c.mqttUrls(v.mqtt ?? (wantsTls ? `mqtts://${new URL(api.url).hostname}:8883` : `mqtt://${new URL(api.url).hostname}:1883`)) : undefined;
  if (failover && apiUrls && mqttUrls && (apiUrls.length < 2 || apiUrls.length !== mqttUrls.length)) {
    c.fail(`failover with --api: two or more nodes, as many --api as --mqtt URLs (got ${apiUrls.length} and ${mqttUrls.length})`);
  }
  const mqttUrl = mqttUrls?.[0];
  const tlsUrl = mqttUrl !== undefined && /^(mqtts|ssl|tls):\/\//.test(mqttUrl);
  if (wantsTls && mqttUrl !== undefined && !tlsUrl) c.fail(`--${v.mtls ? 'mtls' : 'tls'} with --api needs an mqtts:// --mqtt URL`);
  const tls = (wantsTls ?? false) || tlsUrl;
  if (v.ca !== undefined && api === undefined) c.fail('--ca is for a given platform (--api with an mqtts:// --mqtt); the started one uses the committed test certificate');
  if (v.ca !== undefined && !tls) c.fail('--ca needs TLS: an mqtts:// --mqtt URL (or --tls)');
  if (v.ca === '') c.fail('--ca: empty file name');
  return {
    scenario,
    devices,
    presses,
    seconds,
    // failover devices connect directly unless a profile is asked for (the figures are the nodes')
    profiles: failover && v.profile === undefined ? [] : parseProfiles(v.profile, d.profiles.length ? d.profiles : ['good'], c.fail),
    ...(api ? { api } : {}),
    ...(failover && apiUrls ? { apiUrls } : {}),
    ...(mqttUrl ? { mqttUrl, mqttUrls: mqttUrls! } : {}),
    tls,
    mtls: v.mtls ?? false,
    ...(v.ca !== undefined ? { caFile: v.ca } : {}),
    ...(v.report !== undefined ? { report: v.report } : {}),
    ...(baseline ? { baseline } : {}),
    heartbeatS: c.number('--heartbeat', v.heartbeat, d.heartbeatS, 0.1, 86_400),
    locEveryS: d.locEveryS,
    operator: noOperator
      ? null
      : { acceptMs: ms('--accept-after', v['accept-after'], 2), dispatchMs: ms('--dispatch-after', v['dispatch-after'], 2), closeMs: ms('--close-after', v['close-after'], 2) },
    timeoutS: c.number('--timeout', v.timeout, d.timeoutS, 0.1, 86_400),
    retransmitMs: c.integer('--retransmit-ms', v['retransmit-ms'], 5000, 0, 86_400_000),
    seed: c.integer('--seed', v.seed, 1, 0, 2 ** 32 - 1),
    stateDir: v['state-dir'] ?? defaultStateDir(),
    json: v.json ?? false,
    encoding: c.oneOf('--encoding', v.encoding, ['cbor', 'json'] as const, 'cbor'),
    ...(v['database-url'] !== undefined ? { databaseUrl: v['database-url'] } : {}),
    ...(v['data-dir'] !== undefined ? { dataDir: v['data-dir'] } : {}),
    rate: c.number('--rate', v.rate, failover ? 50 : 10, failover ? 0.1 : 0, 100_000),
    batteryMah: c.number('--battery-mah', v['battery-mah'], 1000, 1, 1_000_000),
    pressesPerDay: c.number('--presses-per-day', v['presses-per-day'], 1 / 7, 0, 1000),
    selfTestsPerDay: c.number('--self-tests-per-day', v['self-tests-per-day'], 1, 0, 1000),
    // bench kills the platform only when asked (its figures are those of an undisturbed node otherwise)
    ...(scenario !== 'bench' || v['restart-at'] !== undefined ? { restartAtS: benchKillAt(scenario, c.number('--restart-at', v['restart-at'], seconds / 2, 0, seconds), seconds, c.fail) } : {}),
    gapS: c.number('--gap', v.gap, 10, 0, 3600),
    addresses: c.integer('--addresses', v.addresses, 0, 0, 250),
    connectConcurrency: c.integer('--connect-concurrency', v['connect-concurrency'], scenario === 'bench' ? 256 : 64, 1, 10_000),
    baselineSamples: c.integer('--baseline-samples', v['baseline-samples'], 2000, 10, 1_000_000),
    flood: v.flood ?? false,
    storm: v.storm ?? false,
    idle,
    devicesPerCase: c.integer('--devices-per-case', v['devices-per-case'], 10, 1, 1000),
    nodes: c.integer('--nodes', v.nodes, 2, 2, 16),
    killEveryS: c.number('--kill-every', v['kill-every'], failover && !api ? 15 : 0, 0, 86_400),
    killRedis: v['kill-redis'] ?? false,
    ...(v['redis-url'] !== undefined ? { redisUrl: v['redis-url'] } : {}),
    verbose: v.verbose ?? false,
    sms: v.sms ?? false,
    smsAfterS: c.number('--sms-after', v['sms-after'], 8, 0, 3600),
  };
}

/** The bench's kill must fall inside the load phase (a kill at its very end would measure nothing). */
function benchKillAt(scenario: FleetScenario, atS: number, seconds: number, fail: (m: string) => never): number {
  if (scenario === 'bench' && atS >= seconds) fail(`--restart-at: S must be less than --seconds (${seconds}) for bench: the kill falls inside the load phase`);
  return atS;
}

/** `10000,50000,100000` (also `10k,50k,100k`): increasing whole numbers of devices, 1 to 1,000,000. */
export function parseCounts(name: string, value: string, fail: (m: string) => never): number[] {
  const counts = value.split(',').map((part) => {
    const m = /^\s*(\d+)(k?)\s*$/i.exec(part);
    const n = m ? Number(m[1]) * (m[2] ? 1000 : 1) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000) fail(`${name}: device counts from 1 to 1,000,000 separated by commas, got ${JSON.stringify(value)}`);
    return n;
  });
  for (let i = 1; i < counts.length; i++) if (counts[i]! <= counts[i - 1]!) fail(`${name}: counts must increase, got ${value}`);
  return counts;
}
