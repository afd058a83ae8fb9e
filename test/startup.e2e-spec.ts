import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BOOT_TIMEOUT_MS } from './support/platform.js';

/** `npm start` runs the compiled all-in-one app (`npm test` builds it first). */
const MAIN = fileURLToPath(new URL('../dist/apps/platform/src/main.js', import.meta.url));

function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function occupyPort(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const portOf = (s: Server) => (s.address() as { port: number }).port;

describe('start-up failures an operator can fix', () => {
  it('starts, says where it listens, answers there, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', AMR_DATA_DIR: 'memory://', AMR_ADMIN_TOKEN: 'startup-test-token-0123' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d;
          if (/Data {3}.*\n/.test(stdout)) resolve(stdout);
        });
        void exited.then(({ code }) => reject(new Error(`exited (${code}) before it was running: ${stderr}`)));
      });
      expect(banner).toMatch(/AMR 2\.0 platform is running\n {2}MQTT {3}mqtt:\/\/localhost:\d+\n {2}HTTP {3}http:\/\/localhost:\d+\/api\/v1 /);
      expect(banner).toContain('embedded PostgreSQL in memory://');
      expect(banner).not.toContain('Admin token, generated'); // AMR_ADMIN_TOKEN is set
      const http = Number(/http:\/\/localhost:(\d+)\/api\/v1/.exec(banner)![1]);
      const health = await fetch(`http://127.0.0.1:${http}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', database: 'up', broker: 'up' });

      child.kill('SIGTERM');
      expect([{ code: 0, signal: null }, { code: null, signal: 'SIGTERM' }]).toContainEqual(await exited);
      expect(stderr).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  }, BOOT_TIMEOUT_MS);

  it('stops with one clear line when the MQTT port is taken', async () => {
    const busy = await occupyPort();
    try {
      const result = await run({ MQTT_HOST: '127.0.0.1', MQTT_PORT: String(portOf(busy)), HTTP_PORT: '0', AMR_DATA_DIR: 'memory://', AMR_ADMIN_TOKEN: 'startup-test-token-0123' });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines[lines.length - 1]).toBe(
        `amr: Cannot start the MQTT listener on 127.0.0.1:${portOf(busy)}: port ${portOf(busy)} is already in use: stop the other process or set MQTT_PORT to a free port`,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      busy.close();
    }
  }, BOOT_TIMEOUT_MS);

  it('stops with one clear line when the HTTP port is taken', async () => {
    const busy = await occupyPort();
    try {
      const result = await run({ MQTT_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(portOf(busy)), AMR_DATA_DIR: 'memory://', AMR_ADMIN_TOKEN: 'startup-test-token-0123' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`amr: Cannot start the HTTP listener on 127.0.0.1:${portOf(busy)}: port ${portOf(busy)} is already in use`);
      expect(result.stderr).toContain('HTTP_PORT');
    } finally {
      busy.close();
    }
  }, BOOT_TIMEOUT_MS);

  it('stops with one clear line when PostgreSQL cannot be reached, without showing the password', async () => {
    const result = await run({ DATABASE_URL: 'postgres://amr:s3cret-pw@127.0.0.1:1/amr', MQTT_PORT: '0', HTTP_PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^amr: .*127\.0\.0\.1:1.*DATABASE_URL/);
    expect(result.stderr).not.toContain('s3cret-pw');
  }, BOOT_TIMEOUT_MS);

  it('stops with one clear line when Redis cannot be reached, without showing the password', async () => {
    const result = await run({ REDIS_URL: 'redis://:s3cret-pw@127.0.0.1:1/2', MQTT_PORT: '0', HTTP_PORT: '0', AMR_DATA_DIR: 'memory://' });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(/^amr: Cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/2: .*ECONNREFUSED.* — start Redis .*unset REDIS_URL/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr + result.stdout).not.toContain('s3cret-pw');
  }, BOOT_TIMEOUT_MS);

  it('names the variable at fault in a bad setting', async () => {
    const result = await run({ MQTT_PORT: 'eighteen83' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('amr: MQTT_PORT: expected a TCP port 0-65535, got "eighteen83"');
  });
});
