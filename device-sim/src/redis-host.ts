/**
 * A Redis of the simulator's own (`redis-server` on an ephemeral loopback port, no persistence)
 * that a scenario may kill and start again: the machine's Redis is shared and must never be
 * killed or flushed by a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './cluster-host.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisHandle {
  url: string;
  port: number;
  readonly pid: number | undefined;
  /** SIGKILL, waits for the process to be gone (the data is lost: nothing is saved). */
  kill(): Promise<void>;
  /** Starts again on the same port. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(options: { binary?: string; port?: number; readyTimeoutMs?: number } = {}): Promise<RedisHandle> {
  const binary = options.binary ?? REDIS_SERVER;
  if (!existsSync(binary)) throw new Error(`${binary} is missing: the scenario starts a Redis of its own (or give --redis-url)`);
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const start = async (): Promise<void> => {
    const proc = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
    while (!(await ping(port))) {
      if (!running()) throw new Error(`redis-server exited during start-up:\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING in time:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || !running()) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await gone;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return running() ? child?.pid : undefined;
    },
    kill: () => stopWith('SIGKILL'),
    start,
    stop: () => stopWith('SIGTERM'),
  };
}

/** PING → +PONG on a fresh connection (RESP inline command). */
export function ping(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.once('error', () => done(false));
  });
}
