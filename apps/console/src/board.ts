import { isInformationalCopy } from './alarm-store.js';
import { h, show } from './dom.js';
import { STAGE_LABEL } from './format.js';
import type { Alarm } from './types.js';

export interface BoardState {
  alarms: readonly Alarm[];
  selectedId: string | null;
  /** Alarms that appeared and have not been opened yet. */
  unseen: ReadonlySet<string>;
  ownCicId: string | null;
}

/** The live board: one row per open alarm; a row's case reference opens it. */
export class BoardView {
  constructor(private readonly container: HTMLElement, private readonly open: (id: string) => void) {}

  render(state: BoardState): void {
    if (state.alarms.length === 0) {
      show(this.container, h('p', { class: 'empty', text: 'No open alarms.' }));
      return;
    }
    const rows = state.alarms.map((alarm) => this.row(alarm, state));
    show(this.container, h('table', { class: 'board-table' },
      h('thead', {}, h('tr', {},
        ['Stage', 'Age · due', 'Risk', 'Case', 'Button', 'Presses'].map((label) => h('th', { scope: 'col', text: label })))),
      h('tbody', {}, rows)));
  }

  private row(alarm: Alarm, state: BoardState): HTMLTableRowElement {
    const unseen = state.unseen.has(alarm.id);
    const copy = isInformationalCopy(alarm, state.ownCicId);
    const risk = alarm.case?.riskLevel ?? null;
    const classes = ['alarm-row', `stage-${alarm.stage}`, unseen ? 'unseen' : '', alarm.id === state.selectedId ? 'selected' : '', copy ? 'copy' : '', alarm.kind === 'test' ? 'test' : ''];
    const reference = alarm.case?.reference || (alarm.caseId ? `case ${alarm.caseId.slice(0, 8)}` : 'no case');
    const row = h('tr', {
      class: classes.filter(Boolean).join(' '),
      'data-alarm-id': alarm.id,
      'aria-current': alarm.id === state.selectedId ? 'true' : null,
      onclick: () => this.open(alarm.id),
    },
      h('td', {}, h('span', { class: `stage stage-${alarm.stage}`, text: STAGE_LABEL[alarm.stage] }), unseen ? h('span', { class: 'badge new', text: 'NEW' }) : null),
      h('td', {},
        h('time', { class: 'age', datetime: alarm.receivedAt, 'data-since': alarm.receivedAt, text: '' }),
        alarm.nextEscalationAt ? h('div', { class: 'sla', 'data-sla-delivered': alarm.deliveredAt ?? '', 'data-sla-until': alarm.nextEscalationAt, text: '' }) : null),
      h('td', {}, risk ? h('span', { class: `risk risk-${risk}`, text: risk }) : '—'),
      h('td', {},
        h('button', { type: 'button', class: 'link open-alarm', 'aria-label': `Open alarm ${reference}, button ${alarm.deviceId}`, text: reference }),
        h('div', { class: 'marks' },
        alarm.kind === 'test' ? h('span', { class: 'badge test', text: 'TEST' }) : null,
        copy ? h('span', { class: 'badge copy', title: `Handled by ${alarm.cicId}`, text: 'INFO COPY' }) : null,
        alarm.escalationLevel > 0 ? h('span', { class: 'badge escalated', text: `ESCALATED ${alarm.escalationLevel}` }) : null,
        alarm.flags.map((f) => h('span', { class: 'badge flag', text: f })))),
      h('td', { class: 'mono', text: alarm.deviceId }),
      h('td', { class: 'num', text: alarm.pressCount }),
    );
    return row;
  }
}
