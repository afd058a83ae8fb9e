import { afterEach, describe, expect, it } from '@jest/globals';
import { BELGIAN_CICS, DEFAULT_BACKUP_CICS, applyDefaultCoverage } from '@amr/persistence';
import { ADMIN_TOKEN, usePlatform } from './support/platform.js';

const NAMUR_BOX = { type: 'Polygon', coordinates: [[[4.7, 50.4], [5.0, 50.4], [5.0, 50.55], [4.7, 50.55], [4.7, 50.4]]] };

describe('coverage areas and backup CICs (location routing)', () => {
  const suite = usePlatform();
  const putArea = (id: string, body: unknown, token = ADMIN_TOKEN) =>
    suite.platform.http.put(`/api/v1/cics/${id}/area`).set('Authorization', `Bearer ${token}`).send(body as object);

  // The CIC rows outlive resetDatabase: put the defaults back after every change.
  afterEach(() => applyDefaultCoverage((sql, params) => suite.db.query(sql, params)));

  it('ships the eleven CICs with a default area and a neighbouring backup', async () => {
    const list = (await suite.platform.api().get('/cics').expect(200)).body as Array<Record<string, unknown>>;
    expect(list).toHaveLength(11);
    for (const { id } of BELGIAN_CICS) {
      expect(list).toContainEqual({ id, name: expect.any(String), backupCicId: DEFAULT_BACKUP_CICS[id], hasArea: true });
    }
    const namur = (await suite.platform.api().get('/cics/cic-namur').expect(200)).body;
    expect(namur).toMatchObject({ id: 'cic-namur', name: 'CIC Namur', backupCicId: 'cic-liege', areaSource: 'amr-default-coarse-v1' });
    expect(namur.area.type).toMatch(/^(Multi)?Polygon$/);
  });

  it('answers 404 with a message for an unknown CIC', async () => {
    const res = await suite.platform.api().get('/cics/cic-atlantis').expect(404);
    expect(res.body.message).toContain('Unknown CIC cic-atlantis');
  });

  it('lets an integration read the CICs but not change an area or a backup', async () => {
    const token = await suite.platform.integrationToken('cic-namur');
    await suite.platform.api(token).get('/cics').expect(200);
    expect((await suite.platform.api(token).get('/cics/cic-liege').expect(200)).body.area).not.toBeNull();
    const put = await putArea('cic-namur', NAMUR_BOX, token).expect(403);
    expect(put.body.message).toContain('administrators');
    await suite.platform.api(token).patch('/cics/cic-namur', { backupCicId: 'cic-hainaut' }).expect(403);
    expect((await suite.platform.api().get('/cics/cic-namur').expect(200)).body.areaSource).toBe('amr-default-coarse-v1');
  });

  it.each([
    ['an open ring', { type: 'Polygon', coordinates: [[[4.7, 50.4], [5.0, 50.4], [5.0, 50.55], [4.7, 50.55]]] }, 'coordinates[0]: the ring is not closed'],
    ['a latitude beyond 90', { type: 'Polygon', coordinates: [[[4.7, 50.4], [5.0, 91], [5.0, 50.55], [4.7, 50.4]]] }, 'coordinates[0][1]: latitude 91 is outside −90..90'],
    ['a Point', { type: 'Point', coordinates: [4.87, 50.47] }, 'type must be "Polygon" or "MultiPolygon"'],
    ['a Feature without a geometry', { type: 'Feature', properties: {} }, 'the area must be a GeoJSON object'],
  ])('refuses %s with 400 and a message naming the problem, and keeps the old area', async (_name, body, message) => {
    const res = await putArea('cic-namur', body).expect(400);
    expect(res.body.message).toContain(message);
    expect((await suite.platform.api().get('/cics/cic-namur').expect(200)).body.areaSource).toBe('amr-default-coarse-v1');
  });

  it('replaces an area with a valid Polygon, or a Feature holding one', async () => {
    const res = await putArea('cic-namur', NAMUR_BOX).expect(200);
    expect(res.body).toMatchObject({ id: 'cic-namur', area: NAMUR_BOX, areaSource: 'api' });
    expect((await suite.platform.api().get('/cics/cic-namur').expect(200)).body).toMatchObject({ area: NAMUR_BOX, areaSource: 'api' });

    const multi = { type: 'MultiPolygon', coordinates: [NAMUR_BOX.coordinates] };
    await putArea('cic-namur', { type: 'Feature', properties: { name: 'Namur' }, geometry: multi }).expect(200);
    expect((await suite.platform.api().get('/cics/cic-namur').expect(200)).body.area).toEqual(multi);
  });

  it('answers 404 for an area put on an unknown CIC', async () => {
    await putArea('cic-atlantis', NAMUR_BOX).expect(404);
  });

  it('sets and clears a backup CIC, refusing unknown ones and the CIC itself with 422', async () => {
    const set = await suite.platform.api().patch('/cics/cic-namur', { backupCicId: 'cic-hainaut' }).expect(200);
    expect(set.body).toMatchObject({ id: 'cic-namur', backupCicId: 'cic-hainaut' });
    expect((await suite.platform.api().get('/cics/cic-namur').expect(200)).body.backupCicId).toBe('cic-hainaut');

    const unknown = await suite.platform.api().patch('/cics/cic-namur', { backupCicId: 'cic-atlantis' }).expect(422);
    expect(unknown.body.message).toContain('Unknown backup CIC cic-atlantis');
    const itself = await suite.platform.api().patch('/cics/cic-namur', { backupCicId: 'cic-namur' }).expect(422);
    expect(itself.body.message).toContain('cannot be its own backup');
    await suite.platform.api().patch('/cics/cic-namur', {}).expect(400);
    await suite.platform.api().patch('/cics/cic-namur', { backupCicId: 42 }).expect(400);
    expect((await suite.platform.api().get('/cics/cic-namur').expect(200)).body.backupCicId).toBe('cic-hainaut');

    await suite.platform.api().patch('/cics/cic-namur', { backupCicId: null }).expect(200);
    expect((await suite.platform.api().get('/cics').expect(200)).body).toContainEqual({
      id: 'cic-namur', name: 'CIC Namur', backupCicId: null, hasArea: true,
    });
  });
});
