import { Controller, Logger, Sse, type MessageEvent } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { defer, filter, from, interval, map, merge, mergeMap, tap, type Observable } from 'rxjs';
import { PlatformEvents, type PlatformEvent } from '@amr/runtime';
import { AlarmService, type AlarmView, type Scope } from '@amr/alarms';
import { CallerScope } from '../auth/auth.guard.js';

/**
 * Server-Sent Events: every alarm and alert change the caller may see, as it happens (CONTRACT §4).
 * A stream of an integration is a delivery channel: when it writes an alarm to an integration of
 * the responsible CIC, the alarm counts as delivered. On connecting, an integration first gets the
 * open alarms of its CIC that no integration has received yet, so an alarm never sits unseen.
 */
@ApiTags('events')
@ApiBearerAuth()
@Controller('events')
export class EventsController {
  private readonly logger = new Logger('Events');

  constructor(private readonly events: PlatformEvents, private readonly alarms: AlarmService) {}

  @Sse()
  stream(@CallerScope() scope: Scope): Observable<MessageEvent> {
    const live = this.events.stream.pipe(filter((e) => visibleTo(scope, e)));
    const pending = defer(() => from(scope.kind === 'integration' ? this.alarms.undelivered(scope.cicId) : Promise.resolve([]))).pipe(
      mergeMap((views) => from(views.map((data): PlatformEvent => ({ type: 'alarm.received', cicIds: [data.cicId], data })))),
    );
    const changes = merge(pending, live).pipe(
      tap((e) => this.onWritten(scope, e)),
      map((e): MessageEvent => ({ type: e.type, data: e.data as object })),
    );
    // A keep-alive every 15 s so proxies keep the stream open and clients can detect a dead one.
    const keepAlive = interval(15_000).pipe(map((): MessageEvent => ({ type: 'keepalive', data: {} })));
    return merge(changes, keepAlive);
  }

  private onWritten(scope: Scope, event: PlatformEvent): void {
    if (scope.kind !== 'integration' || !event.type.startsWith('alarm.')) return;
    const alarm = event.data as Partial<AlarmView>;
    if (!alarm.id || !alarm.stage) return;
    this.alarms
      .deliveredOverStream(alarm as AlarmView, scope)
      .catch((err: unknown) => this.logger.error(`delivery of alarm ${alarm.id} not recorded: ${String(err)}`));
  }
}

function visibleTo(scope: Scope, event: PlatformEvent): boolean {
  return scope.kind === 'admin' || (scope.kind === 'integration' && event.cicIds.includes(scope.cicId));
}
