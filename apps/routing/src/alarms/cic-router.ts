import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Cic } from '@amr/persistence';
import { locateCic, type CicArea, type Geometry } from '@amr/geo';
import type { Position } from '@amr/protocol';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG } from '@amr/runtime';

/** Why an alarm went where it went; stored in its timeline (`routed`). */
export interface RouteDecision {
  cicId: string;
  reason: 'position' | 'home-cic';
  /** Why the position did not decide, when it did not. */
  fallback?: 'no-position' | 'inaccurate-position' | 'stale-position' | 'outside-every-area';
  position?: { lat: number; lon: number; acc: number | null; src: string | null; ageS: number | null };
  /** The case's home CIC, when the alarm was routed elsewhere: it gets an informational copy. */
  homeCicId?: string;
}

/** Coverage areas change rarely (through the API); a short cache keeps them off the press path. */
const AREAS_TTL_MS = 5_000;

/**
 * Location routing: the CIC whose coverage area contains the press's position handles the alarm;
 * without a usable position, or outside every area, the case's home CIC does.
 */
@Injectable()
export class CicRouter {
  private areas: { at: number; value: CicArea[] } | undefined;

  constructor(@Inject(AMR_CONFIG) private readonly config: AmrConfig) {}

  /** The coverage areas, read at most every few seconds; read them before a press's transaction opens. */
  async coverage(db: EntityManager): Promise<CicArea[]> {
    if (this.areas && Date.now() - this.areas.at < AREAS_TTL_MS) return this.areas.value;
    const cics = await db.find(Cic, { select: { id: true, area: true } });
    const value = cics.filter((c) => c.area).map((c) => ({ cicId: c.id, area: c.area as Geometry }));
    this.areas = { at: Date.now(), value };
    return value;
  }

  route(areas: readonly CicArea[], homeCicId: string, position: Position | undefined, pressTs: number | undefined, now: Date): RouteDecision {
    const home = (fallback: RouteDecision['fallback'], described?: RouteDecision['position']): RouteDecision => ({
      cicId: homeCicId,
      reason: 'home-cic',
      fallback,
      ...(described ? { position: described } : {}),
    });
    if (!position) return home('no-position');
    const ageS = position.ts !== undefined ? Math.max(0, Math.round((pressTs ?? now.getTime() / 1000) - position.ts)) : null;
    const described = { lat: position.lat, lon: position.lon, acc: position.acc ?? null, src: position.src ?? null, ageS };
    const { routingMaxAccuracyM, positionMaxAgeS } = this.config.alarms;
    if (position.acc !== undefined && position.acc > routingMaxAccuracyM) return home('inaccurate-position', described);
    if (ageS !== null && ageS > positionMaxAgeS) return home('stale-position', described);
    const cicId = locateCic(areas, position.lon, position.lat);
    if (!cicId) return home('outside-every-area', described);
    return { cicId, reason: 'position', position: described, ...(cicId !== homeCicId ? { homeCicId } : {}) };
  }
}
