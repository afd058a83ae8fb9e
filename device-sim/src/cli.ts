#!/usr/bin/env node
/**
 * AMR 2.0 device simulator: acts as one (later: many) cellular panic buttons against a real
 * platform. `npm run -s sim -- <scenario> [options]`; `--help` lists them.
 */
import { setMaxListeners } from 'node:events';
import { parseCli, USAGE, UsageError } from './args.js';
import { Reporter } from './output.js';
import { runScenario } from './scenarios/index.js';

async function main(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`device-sim: ${error.message}\n\n${USAGE}`);
    return error.exitCode;
  }
  if (command.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }

  const reporter = new Reporter(command.options.json);
  const interrupt = new AbortController();
  setMaxListeners(0, interrupt.signal); // every press in flight listens for Ctrl-C
  process.once('SIGINT', () => {
    reporter.error('interrupted: finishing up (Ctrl-C again to quit at once)');
    interrupt.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  const outcome = await runScenario(command, { reporter, signal: interrupt.signal });
  reporter.result(outcome.result);
  return outcome.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // nothing should be left running; if something is, do not hang a script that waits for us
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`device-sim: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
