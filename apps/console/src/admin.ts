import type { Api } from './api.js';
import { h, show } from './dom.js';
import { renderMap, type Area } from './map.js';
import type { CicSummary, DeviceHealth, IntegrationSummary } from './types.js';

/** The administrator's views: the CICs and their coverage areas, fleet health, integrations. */
export class AdminView {
  constructor(private readonly api: Api, private readonly container: HTMLElement, private readonly areas: () => Promise<Area[]>) {}

  async load(): Promise<void> {
    show(this.container, h('p', { role: 'status', text: 'Loading…' }));
    try {
      const [cics, areas, fleet, integrations] = await Promise.all([
        this.api.get<CicSummary[]>('/cics'),
        this.areas(),
        this.api.get<{ total: number; items: DeviceHealth[] }>('/devices?limit=200'),
        this.api.get<IntegrationSummary[]>('/integrations'),
      ]);
      const names = new Map(cics.map((c) => [c.id, c.name]));
      show(this.container,
        h('div', { class: 'admin-grid' },
          h('section', { class: 'panel', 'aria-labelledby': 'cics-title' },
            h('h3', { id: 'cics-title', text: `Emergency centres (${cics.length})` }),
            renderMap(areas, { title: 'Coverage areas of the CICs', labels: true, frame: 'country' }),
            table('Emergency centres', ['CIC', 'Name', 'Backup', 'Area'], cics.map((c) => [c.id, c.name, c.backupCicId ? names.get(c.backupCicId) ?? c.backupCicId : '—', c.hasArea ? 'yes' : 'NO AREA']))),
          h('section', { class: 'panel', 'aria-labelledby': 'fleet-title' },
            h('h3', { id: 'fleet-title', text: 'Fleet health' }),
            fleetSummary(fleet.total, fleet.items),
            table('Buttons', ['Button', 'Case', 'Connected', 'Battery', 'Last seen', 'Grant until', 'Open alerts'], fleet.items.map((d) => [
              d.id, d.caseId ? d.caseId.slice(0, 8) : 'stock', d.connected ? 'yes' : 'no', d.battery == null ? '—' : `${d.battery} %`,
              d.lastSeenAt ? new Date(d.lastSeenAt).toLocaleString() : 'never', d.grantExpiresAt ? d.grantExpiresAt.slice(0, 10) : '—', d.openAlerts.join(', ') || '—',
            ]))),
          h('section', { class: 'panel', 'aria-labelledby': 'integrations-title' },
            h('h3', { id: 'integrations-title', text: `Integrations (${integrations.length})` }),
            table('Integrations', ['Name', 'CIC', 'Webhook', 'Created', 'State'], integrations.map((i) => [
              i.name, names.get(i.cicId) ?? i.cicId, i.webhookUrl ?? '—', i.createdAt.slice(0, 10), i.revokedAt ? `revoked ${i.revokedAt.slice(0, 10)}` : 'active',
            ])))),
      );
    } catch (err) {
      show(this.container, h('p', { class: 'error', role: 'alert', text: `The administration views could not be loaded: ${(err as Error).message}` }));
    }
  }
}

function table(label: string, head: string[], rows: string[][]): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty', text: 'None.' });
  // A scrolling region a keyboard can reach and scroll.
  return h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': label }, h('table', {},
    h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((cell) => h('td', { text: cell })))))));
}

function fleetSummary(total: number, items: DeviceHealth[]): HTMLElement {
  const count = (p: (d: DeviceHealth) => boolean) => items.filter(p).length;
  const shown = items.length < total ? ` (the first ${items.length} of ${total} below)` : '';
  return h('p', {}, `${total} buttons${shown}: ${count((d) => d.connected)} connected, ${count((d) => d.openAlerts.includes('silent'))} silent, `
    + `${count((d) => d.battery !== null && d.battery < 20)} below 20 % battery, ${count((d) => d.caseId === null)} in stock.`);
}
