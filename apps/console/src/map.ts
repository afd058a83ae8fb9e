import type { Api } from './api.js';
import { s } from './dom.js';
import { formatPosition } from './format.js';
import { boxAround, projection, ringsPath, type Box } from './projection.js';
import type { CicDetail, CicSummary, Geometry, Position } from './types.js';

/**
 * A map of Belgium drawn from the platform's own coverage areas (GET /cics/{id}, GeoJSON): no
 * tiles, nothing from outside. Positions are drawn with their accuracy circles.
 */
export interface Area {
  id: string;
  name: string;
  geometry: Geometry;
}

const project = projection();
let areas: Promise<Area[]> | null = null;

/** The CICs' coverage areas, read once per sign-in. */
export function loadAreas(api: Api): Promise<Area[]> {
  areas ??= api.get<CicSummary[]>('/cics').then(async (cics) => {
    const details = await Promise.all(cics.filter((c) => c.hasArea).map((c) => api.get<CicDetail>(`/cics/${encodeURIComponent(c.id)}`)));
    return details.filter((d) => d.area).map((d) => ({ id: d.id, name: d.name, geometry: d.area! }));
  });
  areas.catch(() => (areas = null));
  return areas;
}

function polygons(g: Geometry): number[][][][] {
  return g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
}

function areaPoints(list: readonly Area[]): [number, number][] {
  return list.flatMap((a) => polygons(a.geometry).flatMap((p) => p[0]!.map(([lon, lat]) => project(lon!, lat!))));
}

export interface MapOptions {
  title: string;
  positions?: readonly Position[];
  /** Areas drawn emphasised (e.g. the CIC handling the alarm). */
  highlight?: readonly string[];
  /** Write each CIC's name in its area. */
  labels?: boolean;
  /** Frame the positions, with their accuracy circles and a scale (a close-up), or the whole country. */
  frame?: 'positions' | 'country';
}

export function renderMap(list: readonly Area[], options: MapOptions): SVGSVGElement {
  const positions = options.positions ?? [];
  const points = positions.map((p) => project(p.lon, p.lat));
  const country = boxAround(areaPoints(list), 3) ?? { minX: -150, minY: -120, maxX: 150, maxY: 120 };
  const frame = options.frame ?? (points.length ? 'positions' : 'country');
  const maxAccKm = Math.max(0, ...positions.map((p) => (p.acc ?? 0) / 1000));
  const box: Box = frame === 'positions' ? (boxAround(points, maxAccKm * 1.3 + 0.15, 0.8) ?? country) : country;
  const span = Math.max(box.maxX - box.minX, box.maxY - box.minY);
  const svg = s('svg', {
    class: frame === 'positions' ? 'map close-up' : 'map',
    viewBox: `${box.minX} ${box.minY} ${box.maxX - box.minX} ${box.maxY - box.minY}`,
    preserveAspectRatio: 'xMidYMid meet',
    role: 'img',
    'aria-label': options.title,
  }, s('title', { text: options.title }));

  const highlight = new Set(options.highlight ?? []);
  const areaGroup = s('g', { class: 'areas' });
  for (const area of list) {
    const d = polygons(area.geometry).map((p) => ringsPath(p, project)).join('');
    areaGroup.append(s('path', { d, class: highlight.has(area.id) ? 'area own' : 'area', 'data-cic': area.id }, s('title', { text: area.name })));
  }
  svg.append(areaGroup);

  if (options.labels) {
    const labels = s('g', { class: 'labels', 'aria-hidden': 'true' });
    for (const area of list) {
      const b = boxAround(areaPoints([area]));
      if (!b) continue;
      labels.append(s('text', { x: (b.minX + b.maxX) / 2, y: (b.minY + b.maxY) / 2, 'font-size': span / 45, 'text-anchor': 'middle', text: area.name.replace(/^CIC /, '') }));
    }
    svg.append(labels);
  }

  if (points.length) {
    const trail = s('g', { class: 'trail' });
    positions.forEach((p, i) => {
      const [x, y] = points[i]!;
      if (p.acc && frame === 'positions') trail.append(s('circle', { class: 'accuracy', cx: x, cy: y, r: p.acc / 1000 }));
    });
    if (points.length > 1) trail.append(s('polyline', { class: 'path', points: points.map(([x, y]) => `${x},${y}`).join(' ') }));
    positions.forEach((p, i) => {
      const [x, y] = points[i]!;
      const latest = i === positions.length - 1;
      trail.append(s('circle', { class: latest ? 'fix latest' : 'fix', cx: x, cy: y, r: span / (frame === 'country' ? (latest ? 60 : 110) : latest ? 90 : 140) }, s('title', { text: formatPosition(p) })));
    });
    svg.append(trail);
  }
  if (frame === 'positions') svg.append(scaleBar(box, span));
  return svg;
}

const SCALE_STEPS_M = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

/** A scale bar of a round length, about a quarter of the frame, in its lower left corner. */
function scaleBar(box: Box, span: number): SVGGElement {
  const metres = SCALE_STEPS_M.filter((m) => m / 1000 <= span / 4).at(-1) ?? 10;
  const x = box.minX + span / 25;
  const y = box.maxY - span / 25;
  const label = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
  return s('g', { class: 'scale', 'aria-hidden': 'true' },
    s('line', { x1: x, y1: y, x2: x + metres / 1000, y2: y }),
    s('text', { x, y: y - span / 60, 'font-size': span / 28, text: label }));
}
