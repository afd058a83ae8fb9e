/**
 * Statements sent in one round trip with the transaction's BEGIN or COMMIT.
 *
 * node-postgres sends one statement per round trip and waits for its answer, so a transaction of
 * two statements costs four (BEGIN, the two, COMMIT) — on a busy machine each one a wake-up of the
 * database backend and of this process. A simple-protocol query may hold several statements, but
 * no parameters; so the statement is prepared once per connection at the SQL level (`PREPARE`, the
 * plan cache is the same as for a protocol-level prepared statement) and executed with its values
 * written as literals: `BEGIN; …; EXECUTE s('…')` and `EXECUTE s('…'); COMMIT`.
 *
 * Values are quoted the way node-postgres' own escapeLiteral quotes them (an E'' string when there
 * is a backslash, so the result does not depend on standard_conforming_strings); arrays are written
 * as array literals. Only for PostgreSQL through node-postgres, which answers a multi-statement
 * query with one result per statement.
 */

interface Client {
  query(config: string): Promise<unknown>;
}

/** The SQL-level prepared statements of each connection. */
const prepared = new WeakMap<object, Set<string>>();

/** The SQL identifier a statement named `name` is prepared under. */
export function preparedName(name: string): string {
  return `amr_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** Prepares `text` as `name` on this connection unless it already is (one round trip, once per connection). */
export async function prepareOnce(client: Client, name: string, text: string): Promise<string> {
  const id = preparedName(name);
  let names = prepared.get(client);
  if (!names) prepared.set(client, (names = new Set()));
  if (!names.has(id)) {
    await client.query(`PREPARE ${id} AS ${text}`).catch((err: { code?: string }) => {
      if (err.code !== '42P05') throw err; // duplicate_prepared_statement: it is there
    });
    names.add(id);
  }
  return id;
}

/** `EXECUTE id(…)` with the values written as literals. */
export function executeStatement(id: string, values: readonly unknown[]): string {
  return values.length ? `EXECUTE ${id}(${values.map(sqlLiteral).join(', ')})` : `EXECUTE ${id}`;
}

/** A value as an SQL literal: NULL, a number, a quoted string, an array literal, JSON. */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return quote(value);
  if (value instanceof Date) return quote(value.toISOString());
  if (Array.isArray(value)) return quote(arrayLiteral(value));
  return quote(JSON.stringify(value));
}

/** `{"a","b",NULL}`: every element quoted, `"` and `\` escaped inside (PostgreSQL's array input). */
function arrayLiteral(values: readonly unknown[]): string {
  const element = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v);
    const text = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  };
  return `{${values.map(element).join(',')}}`;
}

/** A string literal, quoted as node-postgres' escapeLiteral does. */
function quote(text: string): string {
  if (text.includes('\0')) throw new Error('a string literal cannot hold a NUL character');
  let backslash = false;
  let out = "'";
  for (const c of text) {
    if (c === "'") out += "''";
    else if (c === '\\') {
      out += '\\\\';
      backslash = true;
    } else out += c;
  }
  out += "'";
  return backslash ? ` E${out}` : out;
}
