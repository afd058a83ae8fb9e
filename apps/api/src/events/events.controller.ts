import { BadRequestException, Controller, Headers, Logger, Sse, type MessageEvent } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiTags } from '@nestjs/swagger';
import { defer, filter, finalize, from, map, merge, mergeMap, Subject, switchMap, takeUntil, tap, timer, type Observable } from 'rxjs';
import { PlatformEvents, isEventId, type PlatformEvent } from '@amr/runtime';
import { AlarmQueries, AlarmStages, actorOf, type AlarmView, type Scope } from '@amr/alarms';
import { CallerScope } from '../auth/auth.guard.js';
import { AlarmWork } from '../limits/rate-limits.js';
import { SseStreams } from '../limits/sse-streams.js';

/**
 * Server-Sent Events: every alarm and alert change the caller may see, as it happens (CONTRACT §4),
 * from the platform's event log, so a stream on any node carries the changes made on every node.
 * Each event carries its `id:`; a client reconnecting with `Last-Event-ID` (to this node or any
 * other) first gets what it missed, then the live events, without a gap.
 *
 * Writing an alarm to a stream is "sent", not delivered: the integration confirms delivery
 * (`POST /alarms/{id}/delivered`). On connecting, an integration first gets the open alarms of its
 * CIC that are not yet delivered, so an alarm never sits unseen.
 *
 * A stream is not rate-limited (it is how a CIC learns of alarms), but a token may hold only a few
 * at once on a node (SseStreams); one more ends the token's oldest stream.
 */
@ApiTags('events')
@ApiBearerAuth()
@Controller('events')
export class EventsController {
  private readonly logger = new Logger('Events');

  constructor(private readonly events: PlatformEvents, private readonly alarms: AlarmQueries, private readonly stages: AlarmStages, private readonly streams: SseStreams) {}

  @Sse()
  @AlarmWork('act')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'the id of the last event received: the stream continues after it' })
  stream(@CallerScope() scope: Scope, @Headers('last-event-id') lastEventId?: string): Observable<MessageEvent> {
    if (lastEventId !== undefined && !isEventId(lastEventId)) {
      throw new BadRequestException(`Last-Event-ID must be the id of an event of this stream (two numbers joined by "-", e.g. 812-4711), got "${lastEventId.slice(0, 40)}"`);
    }
    // Counted from the moment the stream is subscribed (before any header is sent, so a refusal is
    // still a 429) until it ends, however it ends.
    return defer(() => {
      // Past the cap, the token's oldest stream ends (SseStreams): this one takes its place.
      const ended = new Subject<void>();
      const release = this.streams.reserve(actorOf(scope), () => ended.next());
      return defer(async () => lastEventId ?? (await this.events.head())).pipe(
        switchMap((start) => this.from(scope, start)),
        takeUntil(ended),
        finalize(release),
      );
    });
  }

  /**
   * The stream after log position `start`. Every message carries an id a client may resume from:
   * an event its own; the undelivered alarms sent on connecting and the keep-alives, which are not
   * events of the log, the id of the last event before them (resuming from it misses nothing).
   */
  private from(scope: Scope, start: string): Observable<MessageEvent> {
    let last = start;
    const live = this.events.since(start).pipe(
      filter((e) => visibleTo(scope, e)),
      tap((e) => (last = e.id)),
    );
    const pending = defer(() => from(scope.kind === 'integration' ? this.alarms.undelivered(scope.cicId) : Promise.resolve([]))).pipe(
      mergeMap((views) => from(views.map((data): PlatformEvent => ({ type: 'alarm.received', cicIds: [data.cicId], data })))),
    );
    const changes = merge(pending, live).pipe(
      tap((e) => this.onSent(scope, e)),
      map((e): MessageEvent => ({ type: e.type, data: e.data as object, id: 'id' in e ? String(e.id) : last })),
    );
    // A keep-alive at once (the client knows the stream is up) and every 15 s after, so proxies keep
    // the stream open and clients can detect a dead one.
    const keepAlive = timer(0, 15_000).pipe(map((): MessageEvent => ({ type: 'keepalive', data: {}, id: last })));
    return merge(changes, keepAlive);
  }

  /** The case data of an alarm written to an integration's stream is recorded as read. */
  private onSent(scope: Scope, event: PlatformEvent): void {
    if (scope.kind !== 'integration' || !event.type.startsWith('alarm.')) return;
    const alarm = event.data as Partial<AlarmView>;
    if (!alarm.id || !alarm.caseId) return;
    this.stages
      .caseSent(alarm as AlarmView, scope.integrationId, 'sse')
      .catch((err: unknown) => this.logger.error(`case read of alarm ${alarm.id} not recorded: ${String(err)}`));
  }
}

function visibleTo(scope: Scope, event: PlatformEvent): boolean {
  return scope.kind === 'admin' || (scope.kind === 'integration' && event.cicIds.includes(scope.cicId));
}
