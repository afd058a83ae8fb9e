import { AdminView } from './admin.js';
import { AlarmStore, isInformationalCopy } from './alarm-store.js';
import { AlertsView } from './alerts.js';
import type { Api } from './api.js';
import { BoardView } from './board.js';
import { DetailView } from './detail.js';
import { byId } from './dom.js';
import { formatAge, secondsSince, slaClock } from './format.js';
import { loadAreas, type Area } from './map.js';
import { Notifier } from './notify.js';
import { EventStream, type SseMessage, type StreamState } from './sse.js';
import type { Alarm, Alert, Caller, PositionEvent } from './types.js';

type View = 'alarms' | 'alerts' | 'admin';

/**
 * The signed-in console: the open alarms from the API, kept live by the event stream; the board,
 * the detail of one alarm, the technical alerts and, for the administrator, the admin views.
 */
export class ConsoleApp {
  private readonly store = new AlarmStore();
  private readonly unseen = new Set<string>();
  /** Alarms whose delivery this console has confirmed (or is confirming). */
  private readonly confirmed = new Set<string>();
  private readonly ownCicId: string | null;
  private readonly notifier = new Notifier();
  private readonly board: BoardView;
  private readonly detail: DetailView;
  private readonly alerts: AlertsView;
  private readonly admin: AdminView | null;
  private readonly stream: EventStream;
  private areas: Area[] = [];
  private selectedId: string | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly api: Api, private readonly caller: Caller, private readonly signOut: (reason?: string) => void) {
    this.ownCicId = caller.kind === 'integration' ? caller.cicId : null;
    this.board = new BoardView(byId('board'), (id) => this.select(id));
    this.detail = new DetailView(api, byId('detail'), this.ownCicId, () => this.areas, (alarm) => this.applyAlarm(alarm), () => this.select(null));
    this.alerts = new AlertsView(api, byId('alerts'), (n) => (byId('alert-count').textContent = String(n)), (m) => this.announce(m));
    this.admin = caller.kind === 'admin' ? new AdminView(api, byId('admin'), () => loadAreas(api)) : null;
    this.stream = new EventStream({
      url: api.eventsUrl,
      token: api.bearer,
      onMessage: (m) => this.onMessage(m),
      onState: (s) => this.onStreamState(s),
    });
  }

  async start(): Promise<void> {
    byId('who').textContent = this.caller.kind === 'admin' ? 'Administrator — every CIC' : `${this.caller.cicName} — ${this.caller.name}`;
    byId('admin-tab').hidden = !this.admin;
    for (const tab of document.querySelectorAll<HTMLButtonElement>('#nav [data-view]')) tab.onclick = () => this.showView(tab.dataset.view as View);
    const mute = byId<HTMLButtonElement>('mute');
    const showMute = () => {
      mute.setAttribute('aria-pressed', String(this.notifier.muted));
      mute.textContent = this.notifier.muted ? 'Sound off' : 'Sound on';
    };
    mute.onclick = () => (this.notifier.setMuted(!this.notifier.muted), showMute());
    showMute();
    document.addEventListener('keydown', this.onKey);
    this.ticker = setInterval(() => this.tick(), 1000);
    this.showView('alarms');
    this.render();

    this.stream.start();
    const [alarms] = await Promise.all([
      this.api.get<Alarm[]>('/alarms?state=open'),
      this.alerts.load(),
      loadAreas(this.api).then((areas) => (this.areas = areas), () => undefined),
    ]);
    for (const alarm of alarms) this.applyAlarm(alarm);
    this.render();
  }

  stop(): void {
    this.stream.stop();
    document.removeEventListener('keydown', this.onKey);
    if (this.ticker) clearInterval(this.ticker);
    this.notifier.calm();
  }

  private onMessage(message: SseMessage): void {
    if (message.event === 'keepalive') return;
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (message.event === 'alarm.position') {
      const change = this.store.addPosition(data as PositionEvent);
      if (change.alarm && change.alarm.id === this.selectedId) this.detail.show(change.alarm);
    } else if (message.event.startsWith('alarm.')) {
      this.applyAlarm(data as Alarm);
    } else if (message.event.startsWith('alert.')) {
      this.alerts.apply(message.event, data as Alert);
    }
  }

  private applyAlarm(view: Alarm): void {
    const change = this.store.upsert(view);
    if (!change.alarm) return;
    const alarm = change.alarm;
    if (change.appeared) this.appeared(alarm);
    if (alarm.stage === 'closed') this.unseen.delete(alarm.id);
    this.render();
    if (alarm.id === this.selectedId) this.detail.show(alarm);
    this.confirmDelivery(alarm);
  }

  /** A new alarm is unmissable: highlighted until opened, the title flashes, a beep (unless muted). */
  private appeared(alarm: Alarm): void {
    if (alarm.stage !== 'received' || alarm.kind === 'test' || isInformationalCopy(alarm, this.ownCicId)) return;
    this.unseen.add(alarm.id);
    const label = `New alarm ${alarm.case?.reference ?? alarm.deviceId}`;
    this.notifier.newAlarm(label);
    this.announce(`${label}, risk ${alarm.case?.riskLevel ?? 'unknown'}`);
  }

  /** Once an alarm is on this CIC's board, the integration has it (CONTRACT §4 delivered). */
  private confirmDelivery(alarm: Alarm): void {
    if (this.caller.kind !== 'integration' || alarm.cicId !== this.ownCicId) return;
    if (alarm.deliveredAt || alarm.stage === 'closed' || this.confirmed.has(alarm.id)) return;
    this.confirmed.add(alarm.id);
    this.api.post<Alarm>(`/alarms/${alarm.id}/delivered`).then(
      (stored) => this.applyAlarm(stored),
      (err: Error) => {
        this.confirmed.delete(alarm.id); // tried again with the alarm's next change
        this.announce(`Could not confirm the delivery of an alarm: ${err.message}`);
      },
    );
  }

  private select(id: string | null): void {
    this.selectedId = id;
    if (id) this.unseen.delete(id);
    if (this.unseen.size === 0) this.notifier.calm();
    this.render();
    this.detail.show(id ? this.store.get(id) ?? null : null);
    if (!id) document.querySelector<HTMLElement>('#board .open-alarm')?.focus();
  }

  private render(): void {
    const open = this.store.open();
    byId('alarm-count').textContent = String(open.length);
    this.board.render({ alarms: open, selectedId: this.selectedId, unseen: this.unseen, ownCicId: this.ownCicId });
    this.tick();
  }

  /** Every displayed age ticks. */
  private tick(): void {
    const now = Date.now();
    for (const el of document.querySelectorAll<HTMLElement>('[data-since]')) el.textContent = formatAge(secondsSince(el.dataset.since!, now));
    for (const el of document.querySelectorAll<HTMLElement>('[data-sla-until]')) {
      const clock = slaClock({ deliveredAt: el.dataset.slaDelivered || null, nextEscalationAt: el.dataset.slaUntil! }, now);
      el.textContent = clock?.text ?? '';
      el.classList.toggle('overdue', clock?.overdue ?? false);
    }
  }

  private showView(view: View): void {
    for (const tab of document.querySelectorAll<HTMLButtonElement>('#nav [data-view]')) {
      if (tab.dataset.view === view) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    for (const v of ['alarms', 'alerts', 'admin'] as const) byId(`view-${v}`).hidden = v !== view;
    if (view === 'admin') void this.admin?.load();
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target as HTMLElement | null;
    const typing = Boolean(target?.closest('input, textarea, select'));
    if (e.key === 'Escape') {
      if (this.selectedId) (this.detail.escape(), e.preventDefault());
      return;
    }
    if (typing || !this.selectedId || byId('view-alarms').hidden) return;
    const key = e.key.toLowerCase();
    if (key === 'a') void this.detail.accept();
    else if (key === 'd') this.detail.openForm('dispatch');
    else if (key === 'c') this.detail.openForm('close');
    else return;
    e.preventDefault();
  };

  private onStreamState(state: StreamState): void {
    const el = byId('stream-state');
    el.dataset.state = state.state;
    if (state.state === 'live') el.textContent = 'Live';
    else if (state.state === 'connecting') el.textContent = 'Connecting…';
    else if (state.state === 'retrying') el.textContent = `Connection lost (${state.reason}); retrying in ${Math.ceil(state.inMs / 1000)} s`;
    else this.signOut(`Signed out: ${state.reason}`);
  }

  private announce(text: string): void {
    const el = byId('announcer');
    el.textContent = '';
    setTimeout(() => (el.textContent = text), 50);
  }
}
