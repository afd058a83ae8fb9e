import { areaKm2, containsPoint, type Geometry } from './geometry.js';

/** A CIC's coverage area. */
export interface CicArea {
  cicId: string;
  area: Geometry;
}

/**
 * The CIC whose area contains the point (longitude, latitude). Where areas overlap, the smallest
 * wins, so an enclave (the Brussels-Capital Region) beats the province drawn around it. Null when
 * no area contains the point: the caller then routes to the case's home CIC.
 */
export function locateCic(areas: readonly CicArea[], lon: number, lat: number): string | null {
  let best: { cicId: string; km2: number } | null = null;
  for (const { cicId, area } of areas) {
    if (!containsPoint(area, lon, lat)) continue;
    const km2 = areaKm2(area);
    if (!best || km2 < best.km2) best = { cicId, km2 };
  }
  return best?.cicId ?? null;
}
