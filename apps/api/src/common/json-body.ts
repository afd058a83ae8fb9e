import type { NextFunction, Request, Response } from 'express';

/** The largest request body accepted (a detailed coverage area is the largest legitimate one). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** The deepest nesting of arrays and objects accepted (a GeoJSON MultiPolygon Feature needs 7). */
export const MAX_JSON_DEPTH = 32;
/** Keys that name an object's prototype machinery: refused wherever they appear. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a body was refused: an HTTP status and a message that never quotes the body. */
export class BodyRefused extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The request body, judged before anything interprets it: JSON only (`application/json`), at most
 * MAX_BODY_BYTES (counted as it arrives: a larger body is not read on), nested at most
 * MAX_JSON_DEPTH deep (checked on the text, before JSON.parse), and without `__proto__`,
 * `constructor` or `prototype` keys. Sets `req.body`; Nest's own body parsers then leave it alone.
 */
export function jsonBody(onRefused: (res: Response, refusal: BodyRefused) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0');
    if (!hasBody) return next();
    const refuse = (refusal: BodyRefused) => {
      // The rest of the body is not read; the connection is closed after the answer.
      res.setHeader('Connection', 'close');
      onRefused(res, refusal);
      req.resume();
    };
    if (!isJson(req.headers['content-type'])) {
      return refuse(new BodyRefused(415, 'Send the request body as JSON, with the header Content-Type: application/json'));
    }
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) return refuse(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done = true;
        return refuse(tooLarge());
      }
      chunks.push(chunk);
    });
    // The client went away, or the request deadline cut it (Node has answered 408 and closes the
    // connection): nobody is left to answer, and it is not the platform's error.
    req.on('error', () => {
      done = true;
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      try {
        req.body = parseJsonBody(Buffer.concat(chunks).toString('utf8'));
        (req as { _body?: boolean })._body = true;
        next();
      } catch (err) {
        if (err instanceof BodyRefused) return refuse(err);
        next(err);
      }
    });
  };
}

function tooLarge(): BodyRefused {
  return new BodyRefused(413, `The request body is larger than ${MAX_BODY_BYTES} bytes`);
}

/** `application/json`, optionally with a UTF-8 charset. */
function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

/** JSON text → value, or BodyRefused(400) saying what is wrong and where, never quoting the text. */
export function parseJsonBody(text: string): unknown {
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) throw new BodyRefused(400, `The JSON body is nested ${depth > 1000 ? 'more than 1000' : depth} levels deep; at most ${MAX_JSON_DEPTH} are accepted`);
  const forbidden = new Set<string>();
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) forbidden.add(key);
      return v;
    });
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new BodyRefused(400, `The body is not valid JSON${position ? ` (error at character ${position})` : ''}: check its syntax`);
  }
  if (forbidden.size > 0) {
    throw new BodyRefused(400, `The body holds the key(s) ${[...forbidden].map((k) => `"${k}"`).join(', ')}, which are not accepted anywhere`);
  }
  return value;
}

/**
 * The deepest nesting of `[` and `{` in a JSON text, strings skipped: one linear pass, no
 * recursion, so a 50,000-deep body costs microseconds. Stops counting past 1001.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
      if (max > 1000) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
