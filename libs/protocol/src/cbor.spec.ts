import { describe, expect, it } from '@jest/globals';

import { CborError, CborSimple, CborTag, decodeCbor } from './cbor.js';

/** A hex fixture, spaces allowed for readability. */
const hex = (text: string): Uint8Array => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe(decodeCbor.name, () => {
  // RFC 8949 Appendix A examples, the ones the protocol can meet
  it.each([
    ['00', 0],
    ['17', 23],
    ['1818', 24],
    ['1903e8', 1000],
    ['1a000f4240', 1000000],
    ['1b000000e8d4a51000', 1000000000000],
    ['1b001fffffffffffff', Number.MAX_SAFE_INTEGER],
    ['20', -1],
    ['3863', -100],
    ['3903e7', -1000],
    ['3b0000000000000005', -6],
    ['f90000', 0],
    ['f93c00', 1],
    ['f93e00', 1.5],
    ['f97bff', 65504],
    ['f90001', 5.960464477539063e-8],
    ['f9c400', -4],
    ['fa47c35000', 100000],
    ['fb3ff199999999999a', 1.1],
    ['fbc010666666666666', -4.1],
    ['f4', false],
    ['f5', true],
    ['f6', null],
    ['f7', undefined],
    ['60', ''],
    ['6161', 'a'],
    ['62c3bc', 'ü'],
    ['63e6b0b4', '水'],
    ['64f0908591', '𐅑'],
    ['7f657374726561646d696e67ff', 'streaming'],
    ['80', []],
    ['83010203', [1, 2, 3]],
    ['9f018202039f0405ffff', [1, [2, 3], [4, 5]]],
    ['a0', {}],
    ['a26161016162820203', { a: 1, b: [2, 3] }],
    ['bf6346756ef563416d7421ff', { Fun: true, Amt: -2 }],
  ])('decodes %s', (bytes, expected) => {
    expect(decodeCbor(hex(bytes))).toEqual(expected);
  });

  it('decodes half-float infinities and NaN (RFC 8949 Appendix D)', () => {
    expect(decodeCbor(hex('f97c00'))).toBe(Infinity);
    expect(decodeCbor(hex('f9fc00'))).toBe(-Infinity);
    expect(decodeCbor(hex('f97e00'))).toBeNaN();
  });

  it('keeps integers beyond 2^53 exact, as bigints', () => {
    expect(decodeCbor(hex('1bffffffffffffffff'))).toBe(18446744073709551615n);
    expect(decodeCbor(hex('3bffffffffffffffff'))).toBe(-18446744073709551616n);
    expect(decodeCbor(hex('1b0020000000000000'))).toBe(2n ** 53n);
  });

  it('returns tags uninterpreted', () => {
    const date = decodeCbor(hex('c11a514b67b0'));
    expect(date).toBeInstanceOf(CborTag);
    expect(date).toEqual(new CborTag(1, 1363896240));
    expect(decodeCbor(hex('c249010000000000000000'))).toEqual(
      new CborTag(2, Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0])),
    );
  });

  it('returns unassigned simple values as CborSimple', () => {
    expect(decodeCbor(hex('f0'))).toEqual(new CborSimple(16));
    expect(decodeCbor(hex('f8ff'))).toEqual(new CborSimple(255));
  });

  it('returns byte strings as copies', () => {
    const source = hex('43010203');
    const bytes = decodeCbor(source) as Uint8Array;
    source[1] = 9;
    expect([...bytes]).toEqual([1, 2, 3]);
  });

  it('keeps text keys of a map and drops the others with their values', () => {
    expect(decodeCbor(hex('a4 01 02 6161 03 f5 a0 41 00 6162'))).toEqual({ a: 3 });
  });

  it('keeps a "__proto__" key as an ordinary key', () => {
    const map = decodeCbor(hex('a2 695f5f70726f746f5f5f a1 6161 01 6162 02')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
    expect(Object.keys(map)).toEqual(['__proto__', 'b']);
    expect((map as { a?: unknown }).a).toBeUndefined();
  });

  it.each([
    ['empty input', ''],
    ['truncated argument', '19 03'],
    ['truncated text', '63 6162'],
    ['truncated map', 'a2 6161 01'],
    ['truncated float', 'fb 3ff1'],
    ['a length beyond the input', '5b 0000000100000000'],
    ['an array count beyond the input', '9a 00010000 01'],
    ['trailing bytes', '01 00'],
    ['reserved additional information 28', '1c'],
    ['reserved additional information 30', 'fe'],
    ['a break outside an indefinite item', 'ff'],
    ['a break as a map value', 'bf 6161 ff'],
    ['an indefinite-length integer', '1f'],
    ['an indefinite-length tag', 'df 01'],
    ['an unterminated indefinite array', '9f 01 02'],
    ['a byte-string chunk in a text string', '7f 41 00 ff'],
    ['a nested indefinite chunk', '7f 7f ff ff'],
    ['a one-byte simple value below 32', 'f8 10'],
    ['invalid UTF-8', '62 c328'],
    ['an encoded surrogate', '63 eda080'],
    ['UTF-8 split across chunks', '7f 61c3 61bc ff'],
    ['a repeated key', 'a2 6161 01 6161 02'],
    ['nesting deeper than 16 levels', `${'81'.repeat(17)}00`],
  ])('rejects %s', (_what, bytes) => {
    expect(() => decodeCbor(hex(bytes))).toThrow(CborError);
  });

  it('accepts nesting of exactly 16 levels', () => {
    expect(() => decodeCbor(hex(`${'81'.repeat(16)}00`))).not.toThrow();
  });
});
