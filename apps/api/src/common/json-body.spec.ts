import { describe, expect, it } from '@jest/globals';
import { BodyRefused, MAX_JSON_DEPTH, nestingDepth, parseJsonBody } from './json-body.js';

describe('JSON bodies', () => {
  it('measures nesting without recursion, ignoring brackets inside strings', () => {
    expect(nestingDepth('{"a":[1,{"b":"[[[[{{{{"}]}')).toBe(3);
    expect(nestingDepth('"\\"[[["')).toBe(0);
    expect(nestingDepth('['.repeat(1_000_000))).toBe(1001);
  });

  it('parses a body at the depth limit, and refuses one level deeper', () => {
    const nested = (d: number) => '['.repeat(d) + ']'.repeat(d);
    expect(parseJsonBody(nested(MAX_JSON_DEPTH))).toBeInstanceOf(Array);
    expect(() => parseJsonBody(nested(MAX_JSON_DEPTH + 1))).toThrow(/nested 33 levels deep; at most 32/);
  });

  it('refuses prototype keys wherever they are', () => {
    expect(() => parseJsonBody('{"a":[{"__proto__":{"x":1}}]}')).toThrow(/"__proto__"/);
    expect(() => parseJsonBody('{"constructor":{"prototype":{}}}')).toThrow(/"prototype", "constructor"|"constructor", "prototype"/);
  });

  it('says where JSON is broken without quoting it', () => {
    const refusal = (() => {
      try {
        parseJsonBody('{"note":"private words", oops}');
      } catch (err) {
        return err as BodyRefused;
      }
    })();
    expect(refusal?.status).toBe(400);
    expect(refusal?.message).toMatch(/^The body is not valid JSON \(error at character \d+\): check its syntax$/);
    expect(refusal?.message).not.toMatch(/private|oops/);
  });
});
