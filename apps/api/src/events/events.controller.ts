import { Controller, Sse, type MessageEvent } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { filter, interval, map, merge, type Observable } from 'rxjs';
import { PlatformEvents } from '@amr/runtime';
import type { Scope } from '@amr/alarms';
import { CallerScope } from '../auth/auth.guard.js';

/** Server-Sent Events: every alarm and alert change the caller may see, as it happens (CONTRACT §4). */
@ApiTags('events')
@ApiBearerAuth()
@Controller('events')
export class EventsController {
  constructor(private readonly events: PlatformEvents) {}

  @Sse()
  stream(@CallerScope() scope: Scope): Observable<MessageEvent> {
    const changes = this.events.stream.pipe(
      filter((e) => scope.kind === 'admin' || e.cicIds.includes(scope.cicId)),
      map((e): MessageEvent => ({ type: e.type, data: e.data as object })),
    );
    // A keep-alive every 15 s so proxies keep the stream open and clients can detect a dead one.
    const keepAlive = interval(15_000).pipe(map((): MessageEvent => ({ type: 'keepalive', data: {} })));
    return merge(changes, keepAlive);
  }
}
