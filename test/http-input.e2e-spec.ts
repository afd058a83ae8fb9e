import { describe, expect, it } from '@jest/globals';
import { ADMIN_TOKEN, usePlatform } from './support/platform.js';

/** Bad HTTP input is answered 4xx with a message a person can act on, never a 500. */
describe('bad HTTP input', () => {
  const suite = usePlatform();
  const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const postRaw = (path: string, contentType: string, text: string) =>
    suite.platform.http.post(`/api/v1${path}`).set(auth).set('Content-Type', contentType).send(text);

  it('bounds paging: an offset beyond any list is a 400 that names it', async () => {
    const res = await suite.platform.api().get('/devices?offset=99999999999999999999').expect(400);
    expect(JSON.stringify(res.body.message)).toMatch(/offset must be 0 to 10000000/);
    await suite.platform.api().get('/devices?offset=-1').expect(400);
    await suite.platform.api().get('/devices?limit=1e309').expect(400);
    await suite.platform.api().get('/devices?offset=10').expect(200);
  });

  it('refuses a 50,000-deep JSON body at once, before parsing it', async () => {
    const timed = async (body: string) => {
      const started = performance.now();
      const res = await postRaw('/cases', 'application/json', body).expect(400);
      return { res, ms: performance.now() - started };
    };
    // The baseline: a flat body of the same size, parsed in full and refused by validation. The two
    // alternate, and each is timed at its fastest: a busy machine only ever adds to a request's time.
    const flats: number[] = [];
    const deeps: number[] = [];
    for (let round = 0; round < 3; round++) {
      const flat = await timed('[' + '0,'.repeat(49_999) + '0]');
      expect(JSON.stringify(flat.res.body.message)).not.toMatch(/nested/);
      flats.push(flat.ms);
      const deep = await timed('['.repeat(50_000) + ']'.repeat(50_000));
      expect(deep.res.body).toEqual({ statusCode: 400, error: 'BAD_REQUEST', message: expect.stringMatching(/nested more than 1000 levels deep; at most 32/) });
      deeps.push(deep.ms);
    }
    // Refused without the work of parsing it: no slower than the flat body.
    expect(Math.min(...deeps)).toBeLessThan(Math.min(...flats) * 2);
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const res = await postRaw('/cases', 'application/json', JSON.stringify({ homeCicId: 'cic-antwerpen', responderNotes: 'x'.repeat(1_100_000) })).expect(413);
    expect(res.body.message).toMatch(/larger than 1048576 bytes/);
  });

  it.each(['constructor', '__proto__', 'prototype'])('refuses a "%s" key anywhere in a body, naming it', async (key) => {
    const res = await postRaw('/cases', 'application/json', `{"homeCicId":"cic-antwerpen","perpetrator":{"${key}":{"isAdmin":true}}}`).expect(400);
    expect(res.body.message).toContain(`"${key}"`);
  });

  it('refuses unknown keys, naming them', async () => {
    const res = await suite.platform.api().post('/cases', { homeCicId: 'cic-antwerpen', isAdmin: true, riskLevel: 'high' }).expect(400);
    expect(JSON.stringify(res.body.message)).toMatch(/property isAdmin should not exist/);
  });

  it.each([
    ['application/x-www-form-urlencoded', 'homeCicId=cic-antwerpen'],
    ['text/plain', '{"homeCicId":"cic-antwerpen"}'],
    ['multipart/form-data; boundary=x', '--x\r\n\r\n--x--'],
    ['application/json; charset=latin1', '{"homeCicId":"cic-antwerpen"}'],
  ])('refuses a %s body with 415', async (contentType, text) => {
    const res = await postRaw('/cases', contentType, text).expect(415);
    expect(res.body.message).toMatch(/Content-Type: application\/json/);
  });

  it('says where malformed JSON breaks, without echoing the body', async () => {
    const secretish = 'S3cr3t-victim-address-Kerkstraat-12';
    const res = await postRaw('/cases', 'application/json', `{"responderNotes":"${secretish}", homeCicId}`).expect(400);
    expect(res.body.message).toMatch(/not valid JSON \(error at character \d+\)/);
    expect(JSON.stringify(res.body)).not.toContain('Kerkstraat');
    expect(JSON.stringify(res.body)).not.toContain('homeCicId');
  });

  it('refuses a malformed device or CIC id in a path with 400, not a database error', async () => {
    const device = await suite.platform.api().get('/devices/%00').expect(400);
    expect(device.body.message).toMatch(/Not a device id/);
    await suite.platform.api().get('/cics/%00x').expect(400);
    await suite.platform.api().get('/devices/btn-unknown-000').expect(404);
  });

  it('still takes JSON with a UTF-8 charset, and bodiless POSTs', async () => {
    await postRaw('/cases', 'application/json; charset=utf-8', '{"homeCicId":"cic-antwerpen"}').expect(201);
    const { deviceId } = await suite.platform.provision();
    await suite.platform.http.post(`/api/v1/devices/${deviceId}/rotate-secret`).set(auth).expect(200);
  });
});
