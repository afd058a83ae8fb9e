/**
 * The platform the simulator drives. Without --api the simulator starts its own: the real
 * all-in-one app (`dist/apps/platform/src/main.js`) as a child process on loopback ports, so
 * that its memory is measured apart from the simulator's (/proc/<pid>/status VmRSS) and the
 * `restart` scenario can kill it with SIGKILL and start it again on the same data. Tests use
 * `startInProcessPlatform`. With --api the platform is someone else's (nothing to start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokerAddress } from './endpoints.js';
import { procRss } from './procfs.js';
import { createDeviceCa, createServerCertificate } from './pki.js';

export interface PlatformHandle {
  kind: 'child' | 'in-process' | 'external';
  apiUrl: string;
  mqtt: { host: string; port: number };
  /**
   * The broker's TLS listener (started with `tls`, or an mqtts:// broker given with --api) and
   * how a button verifies it: `ca` (default: the system's CAs), the name the certificate is for.
   */
  mqtts?: TlsBroker;
  token: string;
  /** The platform's process id, when it runs in its own process. */
  pid?: number;
  /** Resident memory of the platform's process, bytes (undefined when not measurable apart). */
  rssBytes(): Promise<number | undefined>;
  /** SIGKILL, no shutdown (child only). */
  kill(): Promise<void>;
  /** Starts again on the same data directory and the same ports (child only). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface TlsBroker {
  host: string;
  port: number;
  ca?: Buffer;
  servername: string;
}

export interface HostOptions {
  /** Also listen with TLS (MQTTS_PORT, ephemeral), with the committed self-signed localhost pair. */
  tls?: boolean;
  /**
   * TLS with device certificates (--mtls): a device CA and a server certificate made for this run
   * (TLS_DEVICE_CA, TLS_DEVICE_CA_KEY, TLS_CERT, TLS_KEY), removed at close.
   */
  deviceCa?: boolean;
  /** Embedded database directory; default: a fresh temporary directory, removed at close. */
  dataDir?: string;
  /** PostgreSQL instead of the embedded database. */
  databaseUrl?: string;
  startTimeoutMs?: number;
  /** Lines of the platform's output, for --verbose. */
  onOutput?: (line: string) => void;
  /** Further settings of the platform (e.g. AMR_SMS_GATEWAY_URL and AMR_SMS_GATEWAY_TOKEN for the SMS path). */
  env?: Record<string, string>;
}

/** The all-in-one app, compiled (`npm run build`): one platform node. */
/**
 * The compiled all-in-one app: next to this module's compiled copy (dist/), or — when this module
 * runs from its source (tests) — in dist/ of the same checkout.
 */
export const PLATFORM_MAIN = ['../../apps/platform/src/main.js', '../../dist/apps/platform/src/main.js']
  .map((path) => fileURLToPath(new URL(path, import.meta.url)))
  .reduce((found, candidate) => (existsSync(found) ? found : candidate));
const MAIN = PLATFORM_MAIN;

/**
 * The committed self-signed certificate and key for `localhost` (test/fixtures), found from this
 * file: dist/device-sim/src when compiled, device-sim/src under the tests.
 */
export function tlsFixture(): { cert: string; key: string } {
  for (const up of ['../../../', '../../']) {
    const cert = fileURLToPath(new URL(`${up}test/fixtures/tls-cert.pem`, import.meta.url));
    const key = fileURLToPath(new URL(`${up}test/fixtures/tls-key.pem`, import.meta.url));
    if (existsSync(cert) && existsSync(key)) return { cert, key };
  }
  throw new Error('test/fixtures/tls-cert.pem and tls-key.pem are missing (needed for --tls)');
}

/** The TLS files a started platform is given, the certificate its buttons trust, and their clean-up. */
interface TlsFiles {
  env: Record<string, string>;
  ca: Buffer;
  remove(): Promise<void>;
}

/**
 * The committed localhost pair (--tls), or (--mtls) a throwaway device CA and server certificate
 * written to a temporary directory.
 */
async function tlsFiles(options: HostOptions): Promise<TlsFiles | undefined> {
  if (options.deviceCa) {
    const dir = await mkdtemp(join(tmpdir(), 'amr-sim-pki-'));
    const ca = createDeviceCa();
    const server = createServerCertificate();
    const files = { TLS_CERT: server.cert, TLS_KEY: server.key, TLS_DEVICE_CA: ca.cert, TLS_DEVICE_CA_KEY: ca.key };
    const env: Record<string, string> = {};
    for (const [name, pem] of Object.entries(files)) {
      env[name] = join(dir, `${name.toLowerCase()}.pem`);
      await writeFile(env[name]!, pem, { mode: 0o600 });
    }
    return { env, ca: Buffer.from(server.cert), remove: () => rm(dir, { recursive: true, force: true }) };
  }
  if (!options.tls) return undefined;
  const fixture = tlsFixture();
  return { env: { TLS_CERT: fixture.cert, TLS_KEY: fixture.key }, ca: await readFile(fixture.cert), remove: async () => undefined };
}

/**
 * An already running platform (--api). MQTT comes from --mqtt; an mqtts:// broker is verified
 * with `caFile` (PEM) when given, else with the system's CAs, for the URL's host name.
 */
export function externalPlatform(apiUrl: string, token: string, mqttUrl: string, caFile?: string): PlatformHandle {
  const url = new URL(mqttUrl);
  const tls = ['mqtts:', 'ssl:', 'tls:'].includes(url.protocol);
  const mqtt = { host: url.hostname, port: Number(url.port || (tls ? 8883 : 1883)) };
  return {
    kind: 'external',
    apiUrl,
    token,
    mqtt,
    ...(tls ? { mqtts: { ...mqtt, servername: url.hostname, ...(caFile !== undefined ? { ca: readFileSync(caFile) } : {}) } } : {}),
    rssBytes: async () => metricValue(await scrapeMetrics(apiUrl, token).catch(() => ''), 'amr_process_resident_memory_bytes'),
    kill: () => Promise.reject(new Error('cannot kill a platform the simulator did not start')),
    restart: () => Promise.reject(new Error('cannot restart a platform the simulator did not start')),
    close: async () => undefined,
  };
}

/**
 * Where the buttons connect: the TLS listener (and how to verify it) with `tls`, else the plain
 * one. Throws when TLS is asked for and the platform has no TLS listener.
 */
export function brokerFor(platform: PlatformHandle, tls: boolean): { target: { host: string; port: number }; tls?: { ca?: Buffer; servername: string } } {
  if (!tls) return { target: platform.mqtt };
  const s = platform.mqtts;
  if (!s) throw new Error('the platform has no TLS listener (mqtts)');
  return { target: { host: s.host, port: s.port }, tls: { ...(s.ca ? { ca: s.ca } : {}), servername: s.servername } };
}

/**
 * The buttons' list of brokers when `--mqtt` gave several (with --api): `targets` for SimDevice,
 * in the given order; nothing for one broker.
 */
export function brokerList(options: { mqttUrls?: readonly string[] }): { targets?: Array<{ host: string; port: number }> } {
  if (!options.mqttUrls || options.mqttUrls.length < 2) return {};
  return { targets: options.mqttUrls.map((url) => (({ host, port }) => ({ host, port }))(brokerAddress(url))) };
}

/** Starts `node dist/apps/platform/src/main.js` on ephemeral loopback ports. */
export async function startChildPlatform(options: HostOptions = {}): Promise<PlatformHandle> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm run sim does)`);
  const ownDir = options.dataDir === undefined && options.databaseUrl === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'amr-sim-')));
  const token = randomBytes(18).toString('base64url');
  const tls = await tlsFiles(options);
  let ports: { http: number; mqtt: number; mqtts?: number } = { http: 0, mqtt: 0, ...(tls ? { mqtts: 0 } : {}) };
  let child: ChildProcess | undefined;
  const ca = tls?.ca;

  const launch = async (): Promise<void> => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(ports.mqtt),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(ports.http),
      AMR_ADMIN_TOKEN: token,
      AMR_DATA_DIR: dataDir,
      ...options.env,
    };
    for (const name of ['TLS_CERT', 'TLS_KEY', 'TLS_DEVICE_CA', 'TLS_DEVICE_CA_KEY']) delete env[name];
    if (tls) {
      Object.assign(env, tls.env);
      env['MQTTS_PORT'] = String(ports.mqtts ?? 0);
    }
    if (options.databaseUrl) env['DATABASE_URL'] = options.databaseUrl;
    else delete env['DATABASE_URL'];
    const proc = spawn(process.execPath, [...nodeArgs(), MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const tail: string[] = [];
    const started = new Promise<typeof ports>((resolve, reject) => {
      let http: number | undefined;
      let mqtt: number | undefined;
      let mqtts: number | undefined;
      const onLine = (line: string): void => {
        options.onOutput?.(line);
        tail.push(line);
        if (tail.length > 20) tail.shift();
        mqtt ??= num(/MQTT\s+mqtt:\/\/[^:]+:(\d+)/.exec(line)?.[1]);
        mqtts ??= num(/MQTT\s.*mqtts:\/\/[^:]+:(\d+)/.exec(line)?.[1]);
        http ??= num(/HTTP\s+http:\/\/[^:]+:(\d+)/.exec(line)?.[1]);
        if (mqtt !== undefined && http !== undefined && (!tls || mqtts !== undefined)) resolve({ http, mqtt, ...(mqtts !== undefined ? { mqtts } : {}) });
        else if (tls && mqtts === undefined && /^\s*MQTT\s/.test(line)) reject(new Error(`the platform did not open its TLS listener:\n${tail.join('\n')}`));
      };
      lines(proc.stdout!, onLine);
      lines(proc.stderr!, onLine);
      proc.once('exit', (code, signal) => reject(new Error(`the platform exited during start-up (${signal ?? `code ${code}`}):\n${tail.join('\n')}`)));
      setTimeout(() => reject(new Error(`the platform did not start within ${options.startTimeoutMs ?? 180_000} ms:\n${tail.join('\n')}`)), options.startTimeoutMs ?? 180_000).unref();
    });
    try {
      ports = await started;
    } catch (error) {
      proc.kill('SIGKILL');
      throw error;
    }
  };

  await launch();
  const handle: PlatformHandle = {
    kind: 'child',
    get apiUrl() {
      return `http://127.0.0.1:${ports.http}`;
    },
    get mqtt() {
      return { host: '127.0.0.1', port: ports.mqtt };
    },
    get mqtts() {
      return ports.mqtts === undefined ? undefined : { host: '127.0.0.1', port: ports.mqtts, ...(ca ? { ca } : {}), servername: 'localhost' };
    },
    token,
    get pid() {
      return child?.pid;
    },
    async rssBytes() {
      if (child?.pid === undefined) return undefined;
      return procRss(child.pid);
    },
    async kill() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return; // already gone
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await handle.kill();
      await launch();
    },
    async close() {
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
      await tls?.remove();
    },
  } as PlatformHandle;
  return handle;
}

/** The platform in this process (tests): PGlite in memory unless a directory is given. */
export async function startInProcessPlatform(options: HostOptions = {}): Promise<PlatformHandle> {
  const [{ startPlatform }, { loadConfig }] = await Promise.all([import('@amr/platform'), import('@amr/config')]);
  const token = randomBytes(18).toString('base64url');
  const tls = await tlsFiles(options);
  const platform = await startPlatform(
    loadConfig({
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: '0',
      ...(tls ? { ...tls.env, MQTTS_PORT: '0' } : {}),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      AMR_ADMIN_TOKEN: token,
      AMR_DATA_DIR: options.dataDir ?? 'memory://',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...options.env,
    }),
    { logger: ['error'] },
  );
  return {
    kind: 'in-process',
    apiUrl: `http://127.0.0.1:${platform.ports.http}`,
    mqtt: { host: '127.0.0.1', port: platform.ports.mqtt },
    ...(tls && platform.ports.mqtts !== undefined
      ? { mqtts: { host: '127.0.0.1', port: platform.ports.mqtts, ca: tls.ca, servername: 'localhost' } }
      : {}),
    token,
    rssBytes: async () => undefined, // shared with the simulator: not the platform's own
    kill: () => Promise.reject(new Error('an in-process platform cannot be killed')),
    restart: () => Promise.reject(new Error('an in-process platform cannot be restarted')),
    close: async () => {
      await platform.close();
      await tls?.remove();
    },
  };
}


/** The platform's Prometheus text (`GET /metrics`, admin token). */
export async function scrapeMetrics(apiUrl: string, token: string): Promise<string> {
  const response = await fetch(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET /metrics: HTTP ${response.status}`);
  return response.text();
}

/** The value of an unlabelled metric in Prometheus text. */
export function metricValue(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** A counter summed over its samples whose labels include `labels` (0 when the platform has not counted any). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  const re = new RegExp(`^${name}(?:\\{([^}]*)\\})? ([0-9.eE+-]+)$`, 'gm');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const has = m[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => has.includes(`${k}="${v}"`))) sum += Number(m[2]);
  }
  return sum;
}

/** Cumulative buckets (`le` in seconds → count) and the count of a Prometheus histogram. */
export function histogram(text: string, name: string): { buckets: Array<[number, number]>; count: number; sum: number } {
  const buckets: Array<[number, number]> = [];
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} ([0-9.eE+-]+)$`, 'gm');
  for (let m = re.exec(text); m; m = re.exec(text)) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  buckets.sort((a, b) => a[0] - b[0]);
  return { buckets, count: metricValue(text, `${name}_count`) ?? 0, sum: metricValue(text, `${name}_sum`) ?? 0 };
}

/**
 * A percentile of the observations between two scrapes of one histogram, as the upper bound of
 * the bucket holding it (a histogram cannot say more), seconds. Undefined without observations.
 */
export function histogramPercentile(
  before: ReturnType<typeof histogram>,
  after: ReturnType<typeof histogram>,
  p: number,
): number | undefined {
  const delta = after.buckets.map(([le, n]) => [le, n - (before.buckets.find(([l]) => l === le)?.[1] ?? 0)] as const);
  const total = after.count - before.count;
  if (total <= 0) return undefined;
  const rank = Math.ceil((p / 100) * total - 1e-9);
  return delta.find(([, n]) => n >= rank)?.[0];
}

/** Calls `onLine` for every complete line of a child's output. */
export function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const line of parts) onLine(line);
  });
}

function num(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

/**
 * The flags every platform process runs with, here and in package.json's start scripts (a test
 * keeps them the same). A young generation of 64 MiB per semi-space instead of V8's 16: under load
 * a press's objects live for tens of milliseconds, long enough to outlive a 16 MiB nursery and be
 * copied into the old generation, where collecting them cost the node a third to a half of its time
 * at 1,000 presses/s (docs/performance.md, "The young generation").
 */
export const PLATFORM_NODE_FLAGS = ['--max-semi-space-size=64'];

/**
 * The flags of the platform processes the simulator starts: PLATFORM_NODE_FLAGS, then any in
 * `AMR_NODE_ARGS` (e.g. `--cpu-prof`, which NODE_OPTIONS refuses; a flag given again there wins).
 */
export function nodeArgs(): string[] {
  return [...PLATFORM_NODE_FLAGS, ...(process.env['AMR_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean)];
}
