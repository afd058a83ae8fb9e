import { describe, expect, it } from '@jest/globals';
import { logSafe } from './log-safe.js';

describe(logSafe.name, () => {
  it('keeps an ordinary device id or topic as it is', () => {
    expect(logSafe('btn-0042')).toBe('btn-0042');
    expect(logSafe('amr/v1/dev/btn-0042/alarm')).toBe('amr/v1/dev/btn-0042/alarm');
    expect(logSafe('Zürich – ça va ✓ 🚨')).toBe('Zürich – ça va ✓ 🚨');
  });

  it('turns a topic with a newline and ANSI escapes into one inert line', () => {
    const forged = 'amr/v1/dev/x/alarm\n\x1b[31m[Nest] 1 - LOG [MqttBroker] btn-1: connection cut by the platform';
    const out = logSafe(forged, 1000);
    expect(out).toBe('amr/v1/dev/x/alarm\\n\\u001b[31m[Nest] 1 - LOG [MqttBroker] btn-1: connection cut by the platform');
    expect(out).not.toMatch(/[\n\r\x1b]/);
  });

  it.each([
    ['carriage return', 'a\rb', 'a\\rb'],
    ['tab, backspace, form feed', '\t\b\f', '\\t\\b\\f'],
    ['NUL and other C0 controls', '\x00\x07\x1f', '\\u0000\\u0007\\u001f'],
    ['DEL', 'a\x7fb', 'a\\u007fb'],
    ['C1 controls (CSI, NEL)', '\x9b31m\x85', '\\u009b31m\\u0085'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['bidi overrides and isolates', '\u202eevil\u202c \u2066x\u2069 \u200f\u061c', '\\u202eevil\\u202c \\u2066x\\u2069 \\u200f\\u061c'],
    ['a backslash, so that escapes cannot be faked', 'a\\nb', 'a\\\\nb'],
    ['lone surrogates', 'a\ud800b\udc00', 'a\\ud800b\\udc00'],
  ])('escapes %s', (_name, input, expected) => {
    expect(logSafe(input)).toBe(expected);
  });

  it('cuts a long value and says how long it was', () => {
    const out = logSafe('x'.repeat(5000), 10);
    expect(out).toBe('xxxxxxxxxx…(5000 chars)');
  });

  it('does not split a surrogate pair when cutting', () => {
    expect(logSafe('abc🚨def', 4)).toBe('abc…(8 chars)');
  });

  it('renders bytes, errors, objects and primitives', () => {
    expect(logSafe(Buffer.from('ab\ncd'))).toBe('ab\\ncd');
    expect(logSafe(new Error('bad\x1b[0m'))).toBe('bad\\u001b[0m');
    expect(logSafe({ topic: 'a\nb' })).toBe('{"topic":"a\\\\nb"}');
    expect(logSafe(undefined)).toBe('undefined');
    expect(logSafe(null)).toBe('null');
    expect(logSafe(42)).toBe('42');
  });
});
