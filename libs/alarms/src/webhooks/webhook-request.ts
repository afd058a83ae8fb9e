import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

/** Of an answer's body, at most this much is read (it only goes into an error message). */
const MAX_ANSWER_BYTES = 4096;

/**
 * One POST, through node's http(s) with the given `lookup` (guardedLookup: the addresses the
 * socket connects to are the ones that were checked). Redirects are not followed. Resolves with
 * the status and the start of the answer's body; rejects on a network error or `signal`.
 */
export function postOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { signal: AbortSignal; lookup: LookupFunction },
): Promise<{ status: number; answer: string }> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, signal: options.signal, lookup: options.lookup },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.resume();
          return resolve({ status, answer: '' });
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => resolve({ status, answer: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') }));
        res.on('error', () => resolve({ status, answer: '' }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
