/**
 * Several platform nodes on one machine: each the real all-in-one app
 * (`dist/apps/platform/src/main.js`) as a child process, all on one PostgreSQL and one Redis
 * (CONTRACT §5: nodes share DATABASE_URL, REDIS_URL and AMR_INTERNAL_SECRET), each on its own
 * HTTP and MQTT port. A node can be killed with SIGKILL and started again on the same ports;
 * "ready" is `GET /health` answering 200 (database and broker link up).
 *
 * Used by `npm run cluster` (apps/platform/src/cluster.ts) and by the simulator's failover
 * scenario. Node built-ins only, so that the app can load it without the simulator's weight.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { lines, nodeArgs, PLATFORM_MAIN } from './platform-host.js';

export interface ClusterOptions {
  /** Number of nodes (node-1 … node-N). */
  nodes: number;
  databaseUrl: string;
  redisUrl: string;
  /** Address the nodes listen on (default 127.0.0.1). */
  host?: string;
  /** Node i (from 0) listens for HTTP on httpBase + i; 0: free ports chosen at start (kept across restarts). */
  httpBase?: number;
  /** Node i listens for MQTT on mqttBase + i; 0: free ports chosen at start. */
  mqttBase?: number;
  /** Shared by every node; generated when not given. */
  adminToken?: string;
  /** Shared by every node (their internal clients' password); generated when not given. */
  internalSecret?: string;
  /** The nodes' environment before the cluster's own variables (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Each line a node prints. */
  onOutput?: (node: ClusterNode, line: string) => void;
  /** A node's process ended after it was up (an exit during start-up rejects `start()` instead); `expected` false when nobody asked it to (a crash). */
  onExit?: (node: ClusterNode, how: { code: number | null; signal: NodeJS.Signals | null }, expected: boolean) => void;
  /** How long one node may take to answer /health with 200 (default 120 s). */
  readyTimeoutMs?: number;
}

export interface Cluster {
  nodes: ClusterNode[];
  adminToken: string;
  internalSecret: string;
  /** SIGTERM to every node (SIGKILL after `graceMs`), waits for them. */
  close(graceMs?: number): Promise<void>;
}

/** The environment variables that make a node one of a cluster. */
export function nodeEnv(
  base: NodeJS.ProcessEnv,
  node: { id: string; host: string; httpPort: number; mqttPort: number },
  shared: { databaseUrl: string; redisUrl: string; adminToken: string; internalSecret: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    AMR_NODE_ID: node.id,
    HTTP_HOST: node.host,
    HTTP_PORT: String(node.httpPort),
    MQTT_HOST: node.host,
    MQTT_PORT: String(node.mqttPort),
    DATABASE_URL: shared.databaseUrl,
    REDIS_URL: shared.redisUrl,
    AMR_ADMIN_TOKEN: shared.adminToken,
    AMR_INTERNAL_SECRET: shared.internalSecret,
  };
  // one certificate would mean one MQTTS port for all: the cluster runs plain MQTT only
  delete env['TLS_CERT'];
  delete env['TLS_KEY'];
  delete env['MQTT_URL']; // each node's internal clients use their own broker
  return env;
}

export class ClusterNode {
  private child: ChildProcess | undefined;
  private expectExit = false;
  /** The last lines printed, for error messages. */
  readonly tail: string[] = [];
  /** Date.now() of the last start. */
  startedAt = 0;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly host: string,
    readonly httpPort: number,
    readonly mqttPort: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly options: Pick<ClusterOptions, 'onOutput' | 'onExit' | 'readyTimeoutMs'>,
  ) {}

  get apiUrl(): string {
    return `http://${urlHost(this.host)}:${this.httpPort}`;
  }

  get mqttUrl(): string {
    return `mqtt://${urlHost(this.host)}:${this.mqttPort}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the node and waits until `GET /health` answers 200. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.id} is already running`);
    if (!existsSync(PLATFORM_MAIN)) throw new Error(`${PLATFORM_MAIN} is missing: run "npm run build" first`);
    this.expectExit = false;
    this.startedAt = Date.now();
    const child = spawn(process.execPath, [...nodeArgs(), PLATFORM_MAIN], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const onLine = (line: string): void => {
      this.tail.push(line);
      if (this.tail.length > 20) this.tail.shift();
      this.options.onOutput?.(this, line);
    };
    lines(child.stdout!, onLine);
    lines(child.stderr!, onLine);
    let up = false;
    const exited = new Promise<string>((resolve) =>
      child.once('exit', (code, signal) => {
        // an exit during start-up is this call's failure (its caller decides to try again), not onExit's
        if (up) this.options.onExit?.(this, { code, signal }, this.expectExit);
        resolve(signal ?? `code ${code}`);
      }),
    );
    const ready = waitHealthy(this.apiUrl, this.options.readyTimeoutMs ?? 120_000);
    const outcome = await Promise.race([ready.then(() => 'ready' as const), exited.then((how) => ({ exited: how }))]);
    up = outcome === 'ready';
    if (outcome !== 'ready') {
      throw new Error(`${this.id} exited during start-up (${outcome.exited}):\n${this.tail.join('\n')}`);
    }
  }

  /** SIGKILL (no shutdown at all), waits for the process to be gone. */
  kill(): Promise<void> {
    return this.stopWith('SIGKILL');
  }

  /** SIGKILL, then started again on the same ports. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** SIGTERM (the node shuts down cleanly), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.stopWith('SIGTERM');
    clearTimeout(timer);
  }

  /** Passes a signal on (Ctrl-C of `npm run cluster`); the exit that follows is expected. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    this.expectExit = true;
    this.child!.kill(signal);
  }

  private async stopWith(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectExit = true;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await gone;
  }
}

/**
 * Starts the nodes one after the other, each ready before the next: the first one runs the
 * database migrations alone (two nodes migrating one database at once would race).
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const host = options.host ?? '127.0.0.1';
  const adminToken = options.adminToken || randomBytes(24).toString('base64url');
  const internalSecret = options.internalSecret || randomBytes(24).toString('base64url');
  const shared = { databaseUrl: options.databaseUrl, redisUrl: options.redisUrl, adminToken, internalSecret };
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < options.nodes; i++) {
    const httpPort = options.httpBase ? options.httpBase + i : await freePort(host);
    const mqttPort = options.mqttBase ? options.mqttBase + i : await freePort(host);
    const id = `node-${i + 1}`;
    nodes.push(new ClusterNode(i, id, host, httpPort, mqttPort, nodeEnv(options.env ?? process.env, { id, host, httpPort, mqttPort }, shared), options));
  }
  const cluster: Cluster = {
    nodes,
    adminToken,
    internalSecret,
    async close(graceMs = 10_000) {
      await Promise.all(nodes.map((n) => n.stop(graceMs)));
    },
  };
  try {
    for (const node of nodes) await node.start();
  } catch (error) {
    await Promise.all(nodes.map((n) => n.kill()));
    throw error;
  }
  return cluster;
}

/** Polls `GET <apiUrl>/health` until it answers 200 (database and broker link up). */
export async function waitHealthy(apiUrl: string, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${apiUrl}/health did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

/** A port nobody listens on right now (the kernel's choice), to give a node fixed ports from its first start on. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

