import { describe, expect, it } from '@jest/globals';
import { executeStatement, preparedName, prepareOnce, sqlLiteral } from './inline-statements.js';

describe('statements sent with BEGIN or COMMIT: values as literals', () => {
  it('quotes strings as node-postgres does, backslashes in an E string', () => {
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral('a\\b')).toBe(" E'a\\\\b'");
    expect(() => sqlLiteral('a\0b')).toThrow(/NUL/);
  });

  it('writes numbers, NULL, booleans and dates; refuses what is not a number', () => {
    expect([sqlLiteral(42), sqlLiteral(-1.5), sqlLiteral(null), sqlLiteral(undefined), sqlLiteral(true)]).toEqual(['42', '-1.5', 'NULL', 'NULL', 'true']);
    expect(sqlLiteral(new Date('2026-12-01T00:00:00Z'))).toBe("'2026-12-01T00:00:00.000Z'");
    expect(() => sqlLiteral(Number.NaN)).toThrow(/finite/);
  });

  it('writes arrays as array literals, every element quoted and escaped', () => {
    expect(sqlLiteral(['btn-1', 'a"b', 'c\\d', null])).toBe(` E'{"btn-1","a\\\\"b","c\\\\\\\\d",NULL}'`);
    expect(sqlLiteral([1, 2])).toBe(`'{"1","2"}'`);
    expect(sqlLiteral([])).toBe("'{}'");
  });

  it('executes a prepared statement by its SQL name', () => {
    expect(preparedName('press-lookup')).toBe('amr_press_lookup');
    expect(executeStatement('amr_press_lookup', [['a'], [1]])).toBe(`EXECUTE amr_press_lookup('{"a"}', '{"1"}')`);
    expect(executeStatement('amr_x', [])).toBe('EXECUTE amr_x');
  });

  it('prepares a statement once per connection', async () => {
    const sent: string[] = [];
    const client = { query: async (text: string) => void sent.push(text) };
    await prepareOnce(client, 'press-write', 'SELECT $1::int');
    await prepareOnce(client, 'press-write', 'SELECT $1::int');
    await prepareOnce({ query: async (text: string) => void sent.push(text) }, 'press-write', 'SELECT $1::int');
    expect(sent).toEqual(['PREPARE amr_press_write AS SELECT $1::int', 'PREPARE amr_press_write AS SELECT $1::int']);
  });
});
