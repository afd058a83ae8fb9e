/** Start-up failures an operator can fix: printed as their one line, without a stack trace. */
const OPERATOR_ERRORS = new Set(['ConfigError', 'DatabaseUnavailableError', 'ListenError', 'HttpListenError', 'RedisUnavailableError']);

/**
 * Runs an app's start-up. A port in use, an unreachable database or a bad setting stops the
 * process with one clear line (CONTRACT §5) and exit code 1.
 */
export function runMain(start: () => Promise<void>): void {
  start().catch((err: unknown) => {
    const known = err instanceof Error && OPERATOR_ERRORS.has(err.constructor.name);
    process.stderr.write(`amr: ${known ? (err as Error).message : err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
