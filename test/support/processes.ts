import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The compiled entry points (`npm run build`), as the README's start commands run them. */
export const MAINS = {
  platform: fileURLToPath(new URL('../../dist/apps/platform/src/main.js', import.meta.url)),
  broker: fileURLToPath(new URL('../../dist/broker/src/main.js', import.meta.url)),
  routing: fileURLToPath(new URL('../../dist/apps/routing/src/main.js', import.meta.url)),
  api: fileURLToPath(new URL('../../dist/apps/api/src/main.js', import.meta.url)),
} as const;

/** A free TCP port on the loopback (bound, then released for a process to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A platform process started from its compiled entry point, with its output kept for failures. */
export class ChildApp {
  output = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static spawn(main: string, env: Record<string, string>): ChildApp {
    return new ChildApp(spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Resolves once `ready` holds; rejects if the process exits first or it takes too long. */
  async until(ready: (app: ChildApp) => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      if (await Promise.resolve().then(() => ready(this)).catch(() => false)) return this;
      if (exited) throw new Error(`${what}: the process exited: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
