import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/** Nest's start-up chatter (one line per module and route): kept out of an operator's console. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication', 'NestMicroservice']);

/** LOG_LEVEL: this level and the more severe ones are written. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
/** LOG_FORMAT: readable lines for a terminal, or one JSON object per line for a log pipeline. */
export type LogFormat = 'text' | 'json';

const NEST_LEVELS: Record<LogLevelName, LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * The platform's logger: `info` and above by default (debug lines only with LOG_LEVEL=debug), as
 * Nest's readable text, or with LOG_FORMAT=json one object per line:
 * `{"time":"…","level":"warn","context":"MqttAuth","msg":"…"}` (an error's stack in `stack`).
 */
export class PlatformLogger extends ConsoleLogger {
  private readonly format: LogFormat;

  constructor(options: { level?: LogLevelName; format?: LogFormat } = {}, private readonly write: (line: string, stream: 'stdout' | 'stderr') => void = defaultWrite) {
    super({ logLevels: NEST_LEVELS[options.level ?? 'info'] });
    this.format = options.format ?? 'text';
  }

  override log(message: unknown, context?: string): void;
  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && BOOT_CONTEXTS.has(context)) return;
    super.log(message, ...(rest as [string]));
  }

  protected override printMessages(
    messages: unknown[],
    context = '',
    logLevel: LogLevel = 'log',
    writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
  ): void {
    if (this.format !== 'json') return super.printMessages(messages, context, logLevel, writeStreamType, errorStack);
    for (const message of messages) {
      const entry: Record<string, unknown> = {
        time: new Date().toISOString(),
        level: logLevel === 'log' ? 'info' : logLevel,
        context,
        msg: message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message),
      };
      const stack = errorStack ?? (message instanceof Error ? message.stack : undefined);
      if (stack) entry.stack = String(stack);
      this.write(JSON.stringify(entry) + '\n', writeStreamType ?? (logLevel === 'error' || logLevel === 'fatal' ? 'stderr' : 'stdout'));
    }
  }

  // The stack of an error goes into its JSON object, not on lines of its own.
  protected override printStackTrace(stack: string): void {
    if (this.format !== 'json') super.printStackTrace(stack);
  }
}

function defaultWrite(line: string, stream: 'stdout' | 'stderr'): void {
  process[stream].write(line);
}
