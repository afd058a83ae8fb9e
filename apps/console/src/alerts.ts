import type { Api } from './api.js';
import { h, show } from './dom.js';
import { ALERT_LABEL } from './format.js';
import type { Alert } from './types.js';

/** Technical alerts of the CIC's buttons (silent, low battery, missed self-test, flooding), with acknowledge. */
export class AlertsView {
  private readonly alerts = new Map<string, Alert>();

  constructor(
    private readonly api: Api,
    private readonly container: HTMLElement,
    private readonly onCount: (unacknowledged: number) => void,
    private readonly onError: (message: string) => void,
  ) {}

  async load(): Promise<void> {
    for (const alert of await this.api.get<Alert[]>('/alerts?state=open')) this.alerts.set(alert.id, alert);
    this.render();
  }

  /** An `alert.*` event. */
  apply(type: string, alert: Alert): void {
    if (type === 'alert.cleared' || alert.clearedAt) this.alerts.delete(alert.id);
    else this.alerts.set(alert.id, alert);
    this.render();
  }

  private async acknowledge(id: string): Promise<void> {
    try {
      this.apply('alert.acknowledged', await this.api.post<Alert>(`/alerts/${id}/acknowledge`));
    } catch (err) {
      this.onError(`Acknowledging failed: ${(err as Error).message}`);
    }
  }

  render(): void {
    const open = [...this.alerts.values()].sort((a, b) => b.raisedAt.localeCompare(a.raisedAt));
    this.onCount(open.filter((a) => !a.acknowledgedAt).length);
    if (open.length === 0) {
      show(this.container, h('p', { class: 'empty', text: 'No open technical alerts.' }));
      return;
    }
    show(this.container, h('table', { class: 'alerts-table' },
      h('thead', {}, h('tr', {}, ['Alert', 'Button', 'Raised', 'Case', 'Details', 'Acknowledged'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, open.map((alert) => h('tr', { 'data-alert-id': alert.id, class: alert.acknowledgedAt ? 'acknowledged' : 'unacknowledged' },
        h('td', {}, h('span', { class: `badge alert-${alert.type}`, text: ALERT_LABEL[alert.type] ?? alert.type })),
        h('td', { class: 'mono', text: alert.deviceId }),
        h('td', {}, h('time', { datetime: alert.raisedAt, 'data-since': alert.raisedAt, text: '' }), ' ago'),
        h('td', { class: 'mono', text: alert.caseId ? alert.caseId.slice(0, 8) : '—' }),
        h('td', { text: describe(alert) }),
        h('td', {}, alert.acknowledgedAt
          ? `by ${alert.acknowledgedBy ?? '?'} at ${new Date(alert.acknowledgedAt).toLocaleTimeString()}`
          : h('button', { type: 'button', class: 'acknowledge', 'aria-label': `Acknowledge ${ALERT_LABEL[alert.type] ?? alert.type} of button ${alert.deviceId}`, onclick: () => void this.acknowledge(alert.id), text: 'Acknowledge' })),
      )))));
  }
}

function describe(alert: Alert): string {
  const d = alert.details;
  if (alert.type === 'low-battery' && d.battery !== undefined) return `battery ${String(d.battery)} %`;
  if (alert.type === 'silent' && d.heartbeatS !== undefined) return `no heartbeat for ${String(d.heartbeatS)} s + ${String(d.graceS ?? 0)} s grace`;
  return '';
}
