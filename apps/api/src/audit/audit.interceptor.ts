import { HttpException, Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA, SSE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { catchError, finalize, from, mergeMap, tap, throwError, type Observable } from 'rxjs';
import { AuditTrail, type AuditRecord } from '@amr/alarms';
import { callerOf } from '../auth/auth.guard.js';

const NOT_AUDITED = 'amr:not-audited';
/** A route left out of the audit trail: only for routes that read nothing of anybody's (health, metrics). */
export const NotAudited = () => SetMetadata(NOT_AUDITED, true);

/** Ids recorded per entry at the most (a list of 1,000 alarms names them and their cases). */
const MAX_TARGETS = 2_100;
/** Answer fields that name what a call was about. */
const ID_FIELDS = ['id', 'caseId', 'deviceId', 'alarmId'] as const;

/**
 * Every call that reaches a route is recorded in the audit trail — reads as well as changes, so no
 * route can be forgotten — unless the route says `@NotAudited()`. The entry is committed before the
 * answer goes out (group commit: the calls of the moment share one transaction). A stream (SSE) is
 * recorded once it has started, or refused, without holding it up. Calls refused before their
 * route — no valid token (401), an administrators' route (403), a rate limit (429) — are not
 * entries: they are counted in /metrics (an unauthenticated flood must not become a flood of writes).
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditTrail, private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http' || this.reflector.getAllAndOverride<boolean>(NOT_AUDITED, [context.getHandler(), context.getClass()])) {
      return next.handle();
    }
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const start = {
      at: new Date(),
      ...callerOf(request),
      method: request.method,
      route: clean(String((request.route as { path?: unknown } | undefined)?.path ?? request.path), 500),
      action: actionOf(context),
      details: detailsOf(request),
    };
    const entry = (status: number, answer?: unknown): AuditRecord => ({ ...start, status, targets: targetsOf(request.params, answer) });

    if (Reflect.getMetadata(SSE_METADATA, context.getHandler())) {
      let recorded = false;
      const once = (status: number) => {
        if (!recorded) void this.audit.record(entry(status));
        recorded = true;
      };
      return next.handle().pipe(
        tap({ next: () => once(200), error: (err: unknown) => once(statusOf(err)) }),
        finalize(() => once(200)),
      );
    }
    const success = Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined;
    return next.handle().pipe(
      mergeMap(async (answer: unknown) => {
        await this.audit.record(entry(success ?? defaultStatus(request, http.getResponse<Response>()), answer));
        return answer;
      }),
      catchError((err: unknown) => from(this.audit.record(entry(statusOf(err)))).pipe(mergeMap(() => throwError(() => err)))),
    );
  }
}

/** `alarms.accept` for AlarmsController.accept. */
function actionOf(context: ExecutionContext): string {
  const feature = context.getClass().name.replace(/Controller$/, '');
  return `${feature.charAt(0).toLowerCase()}${feature.slice(1)}.${context.getHandler().name}`;
}

function defaultStatus(request: Request, response: Response): number {
  // A handler that set its status itself (passthrough) has it on the response already.
  if (response.statusCode !== 200) return response.statusCode;
  return request.method === 'POST' ? 201 : 200;
}

function statusOf(err: unknown): number {
  return err instanceof HttpException ? err.getStatus() : 500;
}

/** The query string, when there is one: the filter a read used. Never a body (secrets, personal data). */
function detailsOf(request: Request): Record<string, unknown> {
  const q = request.originalUrl.indexOf('?');
  return q < 0 ? {} : { query: clean(request.originalUrl.slice(q + 1), 500) };
}

/** The path's ids, then the ids of what the answer holds: an object, a list, a page of items, an evidence export's alarm. */
function targetsOf(params: Record<string, unknown> | undefined, answer: unknown): string[] {
  const ids = new Set<string>();
  for (const value of Object.values(params ?? {})) if (typeof value === 'string') ids.add(clean(value, 200));
  // A copy: the answer itself goes out as it is.
  const holders: unknown[] = Array.isArray(answer) ? [...answer] : [answer];
  if (isObject(answer) && !Array.isArray(answer)) holders.push(answer.alarm, ...(Array.isArray(answer.items) ? answer.items : []));
  for (const holder of holders) {
    if (!isObject(holder)) continue;
    for (const field of ID_FIELDS) if (typeof holder[field] === 'string') ids.add(holder[field]);
  }
  return [...ids].slice(0, MAX_TARGETS);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Text as the database stores it: no NUL, no lone surrogate, bounded. */
function clean(text: string, max: number): string {
  return text.slice(0, max).replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
