import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { throwError } from 'rxjs';
import { Metrics } from '@amr/runtime';
import { TooManyRequests } from '../limits/rate-limits.js';

/**
 * One error shape for every route: `{statusCode, error, message}`. Known errors carry a message a
 * person can act on; anything else becomes a generic 500 with a correlation id that is also
 * logged. No stack trace ever reaches a client.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  constructor(private readonly metrics: Metrics) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    // Device messages (the MQTT ingress) have their own error path: pass their errors through.
    if (host.getType() !== 'http') return throwError(() => exception);
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'string' ? body : (body as { message?: unknown }).message ?? exception.message;
      this.metrics.httpErrors.inc({ status: String(status) });
      if (exception instanceof TooManyRequests) response.setHeader('Retry-After', String(exception.retryAfterS));
      response.status(status).json({ statusCode: status, error: HttpStatus[status] ?? 'Error', message });
      return undefined;
    }
    const correlationId = randomUUID();
    this.logger.error(`${correlationId}: ${exception instanceof Error ? exception.stack : String(exception)}`);
    this.metrics.httpErrors.inc({ status: '500' });
    if (response.headersSent) return void response.end();
    response.status(500).json({
      statusCode: 500,
      error: 'Internal Server Error',
      message: `Internal error; quote correlation id ${correlationId} to the operators`,
      correlationId,
    });
  }
}
