/**
 * The platform the simulator drives. Without --api the simulator starts its own: the real
 * all-in-one app (`dist/apps/platform/src/main.js`) as a child process on loopback ports, so
 * that its memory is measured apart from the simulator's (/proc/<pid>/status VmRSS) and the
 * `restart` scenario can kill it with SIGKILL and start it again on the same data. Tests use
 * `startInProcessPlatform`. With --api the platform is someone else's (nothing to start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PlatformHandle {
  kind: 'child' | 'in-process' | 'external';
  apiUrl: string;
  mqtt: { host: string; port: number };
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

export interface HostOptions {
  /** Embedded database directory; default: a fresh temporary directory, removed at close. */
  dataDir?: string;
  /** PostgreSQL instead of the embedded database. */
  databaseUrl?: string;
  startTimeoutMs?: number;
  /** Lines of the platform's output, for --verbose. */
  onOutput?: (line: string) => void;
}

const MAIN = fileURLToPath(new URL('../../apps/platform/src/main.js', import.meta.url));

/** An already running platform (--api). MQTT comes from --mqtt. */
export function externalPlatform(apiUrl: string, token: string, mqttUrl: string): PlatformHandle {
  const url = new URL(mqttUrl);
  return {
    kind: 'external',
    apiUrl,
    token,
    mqtt: { host: url.hostname, port: Number(url.port || 1883) },
    rssBytes: async () => metricValue(await scrapeMetrics(apiUrl, token).catch(() => ''), 'amr_process_resident_memory_bytes'),
    kill: () => Promise.reject(new Error('cannot kill a platform the simulator did not start')),
    restart: () => Promise.reject(new Error('cannot restart a platform the simulator did not start')),
    close: async () => undefined,
  };
}

/** Starts `node dist/apps/platform/src/main.js` on ephemeral loopback ports. */
export async function startChildPlatform(options: HostOptions = {}): Promise<PlatformHandle> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm run sim does)`);
  const ownDir = options.dataDir === undefined && options.databaseUrl === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'amr-sim-')));
  const token = randomBytes(18).toString('base64url');
  let ports = { http: 0, mqtt: 0 };
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(ports.mqtt),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(ports.http),
      AMR_ADMIN_TOKEN: token,
      AMR_DATA_DIR: dataDir,
    };
    delete env['TLS_CERT'];
    delete env['TLS_KEY'];
    if (options.databaseUrl) env['DATABASE_URL'] = options.databaseUrl;
    else delete env['DATABASE_URL'];
    const proc = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const tail: string[] = [];
    const started = new Promise<{ http: number; mqtt: number }>((resolve, reject) => {
      let http: number | undefined;
      let mqtt: number | undefined;
      const onLine = (line: string): void => {
        options.onOutput?.(line);
        tail.push(line);
        if (tail.length > 20) tail.shift();
        mqtt ??= num(/MQTT\s+mqtt:\/\/[^:]+:(\d+)/.exec(line)?.[1]);
        http ??= num(/HTTP\s+http:\/\/[^:]+:(\d+)/.exec(line)?.[1]);
        if (mqtt !== undefined && http !== undefined) resolve({ http, mqtt });
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
    },
  } as PlatformHandle;
  return handle;
}

/** The platform in this process (tests): PGlite in memory unless a directory is given. */
export async function startInProcessPlatform(options: HostOptions = {}): Promise<PlatformHandle> {
  const [{ startPlatform }, { loadConfig }] = await Promise.all([import('@amr/platform'), import('@amr/config')]);
  const token = randomBytes(18).toString('base64url');
  const platform = await startPlatform(
    loadConfig({
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      AMR_ADMIN_TOKEN: token,
      AMR_DATA_DIR: options.dataDir ?? 'memory://',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    }),
    { logger: ['error'] },
  );
  return {
    kind: 'in-process',
    apiUrl: `http://127.0.0.1:${platform.ports.http}`,
    mqtt: { host: '127.0.0.1', port: platform.ports.mqtt },
    token,
    rssBytes: async () => undefined, // shared with the simulator: not the platform's own
    kill: () => Promise.reject(new Error('an in-process platform cannot be killed')),
    restart: () => Promise.reject(new Error('an in-process platform cannot be restarted')),
    close: () => platform.close(),
  };
}

/** VmRSS of a process, bytes. */
export async function procRss(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kib === undefined ? undefined : Number(kib) * 1024;
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

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
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
