/**
 * A flat projection for a country the size of Belgium: kilometres east and south of a reference
 * point (equirectangular, scaled by the cosine of the reference latitude). Distortion over
 * Belgium stays under one percent, and accuracy radii in metres map straight onto it.
 */
export const KM_PER_DEGREE_LAT = 110.574;
export const KM_PER_DEGREE_LON_EQUATOR = 111.32;

export interface Projection {
  /** [x km east, y km south] of the reference point. */
  (lon: number, lat: number): [number, number];
}

export function projection(refLat = 50.5, refLon = 4.5): Projection {
  const kx = KM_PER_DEGREE_LON_EQUATOR * Math.cos((refLat * Math.PI) / 180);
  return (lon, lat) => [(lon - refLon) * kx, -(lat - refLat) * KM_PER_DEGREE_LAT];
}

export interface Box {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** The smallest box holding the points, grown by `margin` and to at least `minSpan` on each side. */
export function boxAround(points: readonly [number, number][], margin = 0, minSpan = 0): Box | null {
  if (points.length === 0) return null;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  let box = { minX: Math.min(...xs) - margin, minY: Math.min(...ys) - margin, maxX: Math.max(...xs) + margin, maxY: Math.max(...ys) + margin };
  const grow = (lo: number, hi: number): [number, number] => {
    const span = hi - lo;
    if (span >= minSpan) return [lo, hi];
    const mid = (lo + hi) / 2;
    return [mid - minSpan / 2, mid + minSpan / 2];
  };
  const [minX, maxX] = grow(box.minX, box.maxX);
  const [minY, maxY] = grow(box.minY, box.maxY);
  box = { minX, minY, maxX, maxY };
  return box;
}

/** An SVG path (`d`) for GeoJSON polygon rings. */
export function ringsPath(rings: readonly (readonly number[])[][], project: Projection): string {
  return rings
    .map((ring) => ring.map(([lon, lat], i) => {
      const [x, y] = project(lon!, lat!);
      return `${i === 0 ? 'M' : 'L'}${x.toFixed(3)} ${y.toFixed(3)}`;
    }).join('') + 'Z')
    .join('');
}
