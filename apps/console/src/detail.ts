import { isInformationalCopy } from './alarm-store.js';
import type { Api } from './api.js';
import { facts, h, show } from './dom.js';
import { clockTime, formatPosition, STAGE_LABEL, VIBRATION } from './format.js';
import { renderMap, type Area } from './map.js';
import type { Alarm, AlarmStage, CaseContext, Evidence, TimelineEntry } from './types.js';

type Form = 'dispatch' | 'close' | null;

/**
 * One alarm: what it is, the case, where the button is, what happened; and the operator's
 * actions (Accept, Dispatch, Close), each answered by the button's new stage. Re-rendered on every
 * change of the alarm, except the open form, so an operator's typing is never lost.
 */
export class DetailView {
  private alarm: Alarm | null = null;
  private form: Form = null;
  private evidence: { alarmId: string; entries: number; result: Evidence | Error } | null = null;
  private readonly summary = h('div', { class: 'detail-summary' });
  private readonly actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' });
  private readonly formArea = h('div', { class: 'form-area' });
  private readonly error = h('p', { class: 'error', role: 'alert' });
  private readonly body = h('div', { class: 'detail-body' });

  constructor(
    private readonly api: Api,
    private readonly container: HTMLElement,
    private readonly ownCicId: string | null,
    private readonly areas: () => readonly Area[],
    /** An action's answer (the alarm as stored now). */
    private readonly changed: (alarm: Alarm) => void,
    private readonly closeDetail: () => void,
  ) {
    this.empty();
  }

  get current(): string | null {
    return this.alarm?.id ?? null;
  }

  show(alarm: Alarm | null): void {
    const other = alarm?.id !== this.alarm?.id;
    this.alarm = alarm;
    if (!alarm) return this.empty();
    if (other) {
      this.form = null;
      this.error.textContent = '';
      show(this.formArea);
      show(this.container, h('h2', { id: 'detail-title', class: 'visually-hidden', text: 'Alarm detail' }), this.summary, this.actions, this.error, this.formArea, this.body);
    }
    this.render(alarm);
    if (other) this.container.focus();
  }

  private empty(): void {
    show(this.container, h('h2', { id: 'detail-title', text: 'Alarm detail' }), h('p', { class: 'empty', text: 'Open an alarm on the board to see its case, position and timeline.' }));
  }

  private render(alarm: Alarm): void {
    const copy = isInformationalCopy(alarm, this.ownCicId);
    const ref = alarm.case?.reference || 'no case reference';
    show(this.summary,
      h('p', { class: 'detail-title' },
        h('span', { class: `stage stage-${alarm.stage}`, 'data-stage': alarm.stage, text: STAGE_LABEL[alarm.stage] }), ' ',
        h('strong', { text: ref }),
        alarm.kind === 'test' ? h('span', { class: 'badge test', text: 'TEST — self-test, never dispatched' }) : null,
        copy ? h('span', { class: 'badge copy', text: `INFORMATIONAL COPY — handled by ${alarm.cicId}` }) : null,
        alarm.escalationLevel > 0 ? h('span', { class: 'badge escalated', text: `ESCALATED ${alarm.escalationLevel}` }) : null),
      facts([
        ['Button', h('span', { class: 'mono', text: alarm.deviceId })],
        ['Presses', String(alarm.pressCount)],
        ['Received', [clockTime(alarm.receivedAt), ' (', h('time', { datetime: alarm.receivedAt, 'data-since': alarm.receivedAt, text: '' }), ' ago)']],
        ['Button told', h('span', { class: 'button-stage', text: buttonTold(alarm) })],
        ['Flags', alarm.flags.join(', ')],
        ['Outcome', alarm.outcome ?? ''],
      ]));
    this.renderActions(alarm, copy);
    show(this.body,
      h('section', { class: 'panel case', 'aria-labelledby': 'case-title' }, h('h3', { id: 'case-title', text: 'Case' }), caseFacts(alarm.case)),
      h('section', { class: 'panel where', 'aria-labelledby': 'where-title' }, h('h3', { id: 'where-title', text: 'Position' }), this.where(alarm)),
      h('section', { class: 'panel timeline', 'aria-labelledby': 'timeline-title' }, h('h3', { id: 'timeline-title', text: 'Timeline' }), this.verdict(alarm), timeline(alarm.timeline)),
    );
  }

  private renderActions(alarm: Alarm, copy: boolean): void {
    const may = (to: Exclude<AlarmStage, 'received'>) => !copy && allowed(alarm, to);
    show(this.actions,
      h('button', { type: 'button', class: 'primary', id: 'action-accept', 'aria-keyshortcuts': 'A', disabled: !may('accepted'), onclick: () => void this.accept(), text: 'Accept (A)' }),
      h('button', { type: 'button', id: 'action-dispatch', 'aria-keyshortcuts': 'D', disabled: !may('dispatched'), 'aria-expanded': String(this.form === 'dispatch'), onclick: () => this.openForm('dispatch'), text: 'Dispatch… (D)' }),
      h('button', { type: 'button', id: 'action-close', 'aria-keyshortcuts': 'C', disabled: !may('closed'), 'aria-expanded': String(this.form === 'close'), onclick: () => this.openForm('close'), text: 'Close… (C)' }),
      h('button', { type: 'button', class: 'quiet', 'aria-keyshortcuts': 'Escape', onclick: () => this.escape(), text: 'Back to board (Esc)' }),
    );
    if (this.form && !may(this.form === 'dispatch' ? 'dispatched' : 'closed')) this.cancelForm();
  }

  async accept(): Promise<void> {
    const alarm = this.alarm;
    if (!alarm || isInformationalCopy(alarm, this.ownCicId) || !allowed(alarm, 'accepted')) return;
    await this.act(`/alarms/${alarm.id}/accept`);
  }

  openForm(form: Exclude<Form, null>): void {
    const alarm = this.alarm;
    if (!alarm || isInformationalCopy(alarm, this.ownCicId) || !allowed(alarm, form === 'dispatch' ? 'dispatched' : 'closed')) return;
    this.form = form;
    const submit = (e: Event) => {
      e.preventDefault();
      const data = new FormData(e.target as HTMLFormElement);
      if (form === 'dispatch') {
        const unit = String(data.get('unit') ?? '').trim();
        const eta = String(data.get('etaMin') ?? '').trim();
        void this.act(`/alarms/${alarm.id}/dispatch`, { ...(unit ? { unit } : {}), ...(eta ? { etaMin: Number(eta) } : {}) });
      } else {
        void this.act(`/alarms/${alarm.id}/close`, { outcome: String(data.get('outcome') ?? '').trim() });
      }
    };
    const cancel = h('button', { type: 'button', class: 'quiet', onclick: () => this.cancelForm(), text: 'Cancel' });
    const el = form === 'dispatch'
      ? h('form', { class: 'action-form', 'aria-label': 'Dispatch a unit', onsubmit: submit },
          h('label', { for: 'dispatch-unit', text: 'Unit' }), h('input', { id: 'dispatch-unit', name: 'unit', maxlength: 100, autocomplete: 'off' }),
          h('label', { for: 'dispatch-eta', text: 'ETA (minutes)' }), h('input', { id: 'dispatch-eta', name: 'etaMin', type: 'number', min: 0, max: 600, inputmode: 'numeric' }),
          h('button', { type: 'submit', class: 'primary', text: 'Send dispatch' }), cancel)
      : h('form', { class: 'action-form', 'aria-label': 'Close the alarm', onsubmit: submit },
          h('label', { for: 'close-outcome', text: 'Outcome' }), h('input', { id: 'close-outcome', name: 'outcome', required: true, maxlength: 2000, autocomplete: 'off', list: 'outcomes' }),
          h('datalist', { id: 'outcomes' }, ['perpetrator arrested', 'victim safe, no perpetrator found', 'false alarm', 'test'].map((v) => h('option', { value: v }))),
          h('button', { type: 'submit', class: 'primary', text: 'Close alarm' }), cancel);
    show(this.formArea, el);
    this.renderActions(alarm, false);
    el.querySelector('input')?.focus();
  }

  /** Esc: leave the open form, else the alarm. */
  escape(): void {
    if (this.form) this.cancelForm();
    else this.closeDetail();
  }

  private cancelForm(): void {
    this.form = null;
    show(this.formArea);
    if (this.alarm) this.renderActions(this.alarm, isInformationalCopy(this.alarm, this.ownCicId));
    this.container.focus();
  }

  private async act(path: string, body?: object): Promise<void> {
    this.error.textContent = '';
    try {
      const alarm = await this.api.post<Alarm>(path, body);
      if (this.form) this.cancelForm();
      this.changed(alarm);
    } catch (err) {
      this.error.textContent = (err as Error).message;
    }
  }

  private where(alarm: Alarm): HTMLElement {
    const last = alarm.positions.at(-1);
    const count = `${alarm.positionCount} position${alarm.positionCount === 1 ? '' : 's'}`;
    const text = last
      ? [h('strong', { text: formatPosition(last) }), last.ts ? ` at ${clockTime(new Date(last.ts * 1000).toISOString())}` : '', ` · ${count}`]
      : 'No position from the button.';
    const common = { positions: alarm.positions, highlight: [alarm.cicId] };
    return h('div', { class: 'where-maps' },
      h('p', { class: 'position-text' }, text),
      renderMap(this.areas(), { ...common, frame: 'country', title: last ? `Map of Belgium: the button is at ${formatPosition(last)}, in the area of ${alarm.cicId}` : 'Map of Belgium and the CICs\' areas' }),
      last ? renderMap(this.areas(), { ...common, frame: 'positions', title: `Close-up of the position trail: ${count}, the latest ${formatPosition(last)}, with accuracy circles` }) : null);
  }

  /** The evidence check's verdict on the timeline's hash chain, fetched again when the timeline grows. */
  private verdict(alarm: Alarm): HTMLElement {
    const el = h('p', { class: 'verdict', role: 'status' });
    const known = this.evidence?.alarmId === alarm.id && this.evidence.entries === alarm.timeline.length ? this.evidence.result : null;
    if (!known) {
      el.textContent = 'Checking the timeline…';
      const entries = alarm.timeline.length;
      this.api.get<Evidence>(`/alarms/${alarm.id}/evidence`)
        .then((result) => result, (err: Error) => err)
        .then((result) => {
          this.evidence = { alarmId: alarm.id, entries, result };
          if (this.alarm?.id === alarm.id) el.replaceWith(this.verdict(this.alarm));
        });
      return el;
    }
    if (known instanceof Error) {
      el.className = 'verdict unknown';
      el.textContent = `Timeline not checked: ${known.message}`;
    } else if (known.verification.valid) {
      el.className = 'verdict valid';
      el.textContent = `Timeline verified: ${known.verification.entries} entries, hash chain intact.`;
      el.title = known.verification.algorithm;
    } else {
      el.className = 'verdict invalid';
      el.textContent = `Timeline ALTERED at entry ${known.verification.firstInvalid?.id}: ${known.verification.firstInvalid?.reason}.`;
    }
    return el;
  }
}

const TRANSITIONS: Record<Exclude<AlarmStage, 'received'>, readonly AlarmStage[]> = {
  accepted: ['received'],
  dispatched: ['received', 'accepted'],
  closed: ['received', 'accepted', 'dispatched'],
};

function allowed(alarm: Alarm, to: Exclude<AlarmStage, 'received'>): boolean {
  if (to === 'dispatched' && alarm.kind === 'test') return false;
  return TRANSITIONS[to].includes(alarm.stage);
}

/** The newest stage the button was sent, and its vibration. */
function buttonTold(alarm: Alarm): string {
  const sent = alarm.timeline.filter((e) => e.stage && Array.isArray(e.acks)).at(-1);
  const stage = sent?.stage ?? alarm.stage;
  return `${stage} — vibration ${VIBRATION[stage]}${sent ? ` (${(sent.acks as string[]).join(', ')})` : ''}`;
}

function caseFacts(c: CaseContext | null): HTMLElement {
  if (!c) return h('p', { class: 'empty', text: 'This button is not assigned to a case.' });
  const p = c.perpetrator;
  const v = c.victim;
  return facts([
    ['Reference', c.reference ?? ''],
    ['Risk', c.riskLevel ? h('span', { class: `risk risk-${c.riskLevel}`, text: c.riskLevel }) : ''],
    ['Home CIC', c.homeCicId],
    ['Perpetrator', p ? [p.name ?? '', p.description ? ` — ${p.description}` : ''].join('') : ''],
    ['Vehicle', p?.vehicle ?? ''],
    ['Weapons', p?.weaponsKnown === undefined ? '' : p.weaponsKnown ? h('strong', { class: 'warning', text: 'Weapons known' }) : 'none known'],
    ['Protection orders', c.protectionOrders.map((o) => h('div', {
      text: [o.type, o.places?.length ? `: ${o.places.join('; ')}` : '', o.perimeterM ? `, ${o.perimeterM} m` : '', o.until ? `, until ${o.until}` : ''].join(''),
    }))],
    ['Responder notes', c.responderNotes ?? ''],
    ['Victim', v?.name ?? ''],
    ['Contact', v?.phone ?? ''],
    ['Languages', v?.languages?.join(', ') ?? ''],
  ]);
}

/** Timeline fields shown elsewhere or of no use to an operator. */
const TIMELINE_HIDDEN = new Set(['acks', 'integrationId', 'path', 'deviceTs']);

function timeline(entries: readonly TimelineEntry[]): HTMLElement {
  return h('ol', { class: 'timeline-list' }, entries.map((e) => {
    const { at, stage, event, ...rest } = e;
    const what = stage ? STAGE_LABEL[stage] : String(event);
    const vib = stage && Array.isArray(rest.acks) ? ` → button: ${VIBRATION[stage]} vibration via ${(rest.acks as string[]).join(', ')}` : '';
    const details = Object.entries(rest)
      .filter(([key, value]) => !TIMELINE_HIDDEN.has(key) && value !== null && value !== undefined && typeof value !== 'object')
      .map(([k, value]) => `${k} ${String(value)}`)
      .join(', ');
    return h('li', {},
      h('time', { datetime: at, text: clockTime(at) }), ' ',
      h('strong', { text: what }), vib,
      details ? h('span', { class: 'muted', text: ` — ${details}` }) : null);
  }));
}
