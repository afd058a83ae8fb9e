import { Subject, type Observable } from 'rxjs';

/** CONTRACT §4 Event (SSE): the change, and the alarm or alert as JSON. */
export type PlatformEventType =
  | 'alarm.received'
  | 'alarm.pressed'
  | 'alarm.accepted'
  | 'alarm.dispatched'
  | 'alarm.closed'
  | 'alarm.position'
  | 'alarm.escalated'
  | 'alert.raised'
  | 'alert.cleared'
  | 'alert.acknowledged';

export interface PlatformEvent {
  readonly type: PlatformEventType;
  /** The CICs entitled to see it; an integration sees only events of its own CIC. */
  readonly cicIds: readonly string[];
  readonly data: unknown;
}

/**
 * The platform's in-process event bus: the alarm pipeline and the API publish, SSE streams
 * subscribe. Every event is delivered synchronously to the current subscribers.
 */
export class PlatformEvents {
  private readonly subject = new Subject<PlatformEvent>();

  publish(event: PlatformEvent): void {
    this.subject.next(event);
  }

  get stream(): Observable<PlatformEvent> {
    return this.subject.asObservable();
  }
}
