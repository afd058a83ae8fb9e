/**
 * GeoJSON areas (RFC 7946 §3.1.6 Polygon, §3.1.7 MultiPolygon) in WGS84 longitude/latitude.
 * Pure functions: no I/O, no injection.
 */

/** A position is `[longitude, latitude]` (RFC 7946 §3.1.1); rings are closed (first = last). */
export type Geometry =
  | { type: 'Polygon'; coordinates: number[][][] }
  | { type: 'MultiPolygon'; coordinates: number[][][][] };

export type GeometryCheck = { ok: true; value: Geometry } | { ok: false; error: string };

/**
 * Checks that `value` is a usable coverage area: a Polygon or MultiPolygon whose rings are closed
 * (RFC 7946 §3.1.6: first position = last), have at least four positions, and hold finite
 * longitudes in −180..180 and latitudes in −90..90. Holes (rings after the first) are allowed.
 * Self-intersection and ring orientation are not checked: containment uses the even-odd rule,
 * which does not depend on either. The error names the problem and where it is.
 */
export function validateGeometry(value: unknown): GeometryCheck {
  if (!isRecord(value)) return fail('the area must be a GeoJSON object with "type" and "coordinates"');
  const { type, coordinates } = value;
  if (type !== 'Polygon' && type !== 'MultiPolygon') {
    return fail(`type must be "Polygon" or "MultiPolygon", not ${JSON.stringify(type) ?? 'missing'}`);
  }
  if (!Array.isArray(coordinates)) return fail('coordinates must be an array');
  if (type === 'Polygon') {
    const error = checkPolygon(coordinates, 'coordinates');
    return error ? fail(error) : { ok: true, value: { type, coordinates: coordinates as number[][][] } };
  }
  if (coordinates.length === 0) return fail('coordinates: a MultiPolygon needs at least one polygon');
  for (let p = 0; p < coordinates.length; p++) {
    const polygon: unknown = coordinates[p];
    if (!Array.isArray(polygon)) return fail(`coordinates[${p}] must be an array of rings`);
    const error = checkPolygon(polygon, `coordinates[${p}]`);
    if (error) return fail(error);
  }
  return { ok: true, value: { type, coordinates: coordinates as number[][][][] } };
}

function checkPolygon(rings: unknown[], where: string): string | null {
  if (rings.length === 0) return `${where}: a polygon needs at least one ring`;
  for (let r = 0; r < rings.length; r++) {
    const ring: unknown = rings[r];
    const at = `${where}[${r}]`;
    if (!Array.isArray(ring)) return `${at} must be an array of positions`;
    for (let i = 0; i < ring.length; i++) {
      const error = checkPosition(ring[i], `${at}[${i}]`);
      if (error) return error;
    }
    // RFC 7946 §3.1.6: a linear ring is closed with four or more positions.
    if (ring.length < 4) return `${at}: a ring needs at least 4 positions (first = last), it has ${ring.length}`;
    const first = ring[0] as number[];
    const last = ring[ring.length - 1] as number[];
    if (first[0] !== last[0] || first[1] !== last[1]) {
      return `${at}: the ring is not closed; its last position [${last[0]}, ${last[1]}] must repeat the first [${first[0]}, ${first[1]}]`;
    }
  }
  return null;
}

function checkPosition(position: unknown, at: string): string | null {
  if (!Array.isArray(position) || position.length < 2) return `${at}: a position must be [longitude, latitude]`;
  const [lon, lat] = position as unknown[];
  if (typeof lon !== 'number' || !Number.isFinite(lon)) return `${at}: longitude ${String(lon)} is not a finite number`;
  if (typeof lat !== 'number' || !Number.isFinite(lat)) return `${at}: latitude ${String(lat)} is not a finite number`;
  if (lon < -180 || lon > 180) return `${at}: longitude ${lon} is outside −180..180`;
  if (lat < -90 || lat > 90) return `${at}: latitude ${lat} is outside −90..90`;
  return null;
}

/**
 * Whether the point lies in the area: even-odd ray casting over every ring of a polygon (so holes
 * are respected), any polygon of a MultiPolygon. A point on an edge or a vertex counts as inside.
 * Planar in longitude/latitude; areas that cross the antimeridian are out of scope.
 */
export function containsPoint(geometry: Geometry, lon: number, lat: number): boolean {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  return polygons.some((rings) => polygonContains(rings, lon, lat));
}

function polygonContains(rings: number[][][], x: number, y: number): boolean {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i] as [number, number];
      const [xj, yj] = ring[j] as [number, number];
      if (onSegment(x, y, xi, yi, xj, yj)) return true;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

function onSegment(x: number, y: number, x1: number, y1: number, x2: number, y2: number): boolean {
  const cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
  const scale = Math.max(Math.abs(x2 - x1), Math.abs(y2 - y1), 1e-12);
  if (Math.abs(cross) > 1e-12 * scale) return false;
  return Math.min(x1, x2) <= x && x <= Math.max(x1, x2) && Math.min(y1, y2) <= y && y <= Math.max(y1, y2);
}

const KM_PER_DEGREE = 111.32; // at the equator; 2π × 6378.137 km / 360

/**
 * Approximate surface in km²: each ring projected equirectangularly around its own mean latitude,
 * shoelace formula, holes subtracted. Good to a few percent for areas the size of a province;
 * used to prefer the smaller of two overlapping areas.
 */
export function areaKm2(geometry: Geometry): number {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let total = 0;
  for (const [outer, ...holes] of polygons) {
    if (!outer) continue;
    total += ringKm2(outer) - holes.reduce((sum, hole) => sum + ringKm2(hole), 0);
  }
  return total;
}

function ringKm2(ring: number[][]): number {
  if (ring.length < 3) return 0;
  const open = ring.slice(0, -1); // a closed ring repeats its first position
  const meanLat = open.reduce((sum, p) => sum + (p[1] ?? 0), 0) / open.length;
  const kx = KM_PER_DEGREE * Math.cos((meanLat * Math.PI) / 180);
  let twice = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    twice += xj * kx * (yi * KM_PER_DEGREE) - xi * kx * (yj * KM_PER_DEGREE);
  }
  return Math.abs(twice) / 2;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(error: string): GeometryCheck {
  return { ok: false, error };
}
