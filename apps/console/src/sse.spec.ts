import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { EventStream, SseParser, type SseMessage, type StreamState } from './sse.js';

describe(SseParser.name, () => {
  const parse = (...chunks: string[]) => {
    const parser = new SseParser();
    return chunks.flatMap((c) => parser.feed(c));
  };

  it.each([
    ['one event', ['event: alarm.received\nid: 1-2\ndata: {"a":1}\n\n'], [{ event: 'alarm.received', data: '{"a":1}', id: '1-2' }]],
    ['no event field: "message"', ['data: x\n\n'], [{ event: 'message', data: 'x' }]],
    ['several data lines joined by \\n', ['data: a\ndata: b\n\n'], [{ event: 'message', data: 'a\nb' }]],
    ['only one leading space is removed', ['data:  x\n\n'], [{ event: 'message', data: ' x' }]],
    ['no space after the colon', ['data:x\n\n'], [{ event: 'message', data: 'x' }]],
    ['comments are ignored', [': keep-alive\n\ndata: y\n\n'], [{ event: 'message', data: 'y' }]],
    ['an event without data is not dispatched', ['event: a\n\n'], []],
    ['an incomplete event waits for its blank line', ['data: z\n'], []],
    ['split anywhere', ['ev', 'ent: a\nda', 'ta: 1', '\n', '\n'], [{ event: 'a', data: '1' }]],
    ['CRLF line ends', ['data: 1\r\n\r\n'], [{ event: 'message', data: '1' }]],
    ['CR line ends', ['data: 1\r\rdata: 2\r\r'], [{ event: 'message', data: '1' }, { event: 'message', data: '2' }]],
    ['CRLF split between chunks', ['data: 1\r', '\n\r', '\n'], [{ event: 'message', data: '1' }]],
    ['the id persists to later events', ['id: 7\ndata: a\n\ndata: b\n\n'], [{ event: 'message', data: 'a', id: '7' }, { event: 'message', data: 'b', id: '7' }]],
    ['unknown fields are ignored', ['foo: bar\ndata: c\n\n'], [{ event: 'message', data: 'c' }]],
    ['retry advice is ignored', ['retry: 2500\ndata: d\n\n'], [{ event: 'message', data: 'd' }]],
  ])('%s', (_name, chunks, expected) => {
    expect(parse(...chunks)).toEqual(expected);
  });
});

describe(EventStream.name, () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<string> {
    let n = 0;
    server = createServer((req, res) => handler(req, res, n++));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  }

  function collect(url: string, token = 't0ken') {
    const messages: SseMessage[] = [];
    const states: StreamState[] = [];
    let notify = () => {};
    const stream = new EventStream({
      url,
      token,
      retryDelaysMs: [10],
      onMessage: (m) => (messages.push(m), notify()),
      onState: (s) => (states.push(s), notify()),
    });
    const until = (holds: () => boolean) =>
      new Promise<void>((resolve) => {
        notify = () => holds() && resolve();
        notify();
      });
    return { stream, messages, states, until };
  }

  it('sends the token as a header, reconnects after the stream ends and resumes with Last-Event-ID', async () => {
    const seen: { auth?: string; last?: string }[] = [];
    const url = await serve((req, res, n) => {
      seen.push({ auth: req.headers.authorization, last: req.headers['last-event-id'] as string | undefined });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (n === 0) res.end('event: alarm.received\nid: 1-1\ndata: {"id":"a"}\n\n');
      else res.write('event: alarm.accepted\nid: 1-2\ndata: {"id":"a"}\n\n');
    });
    const { stream, messages, until } = collect(url);
    stream.start();
    await until(() => messages.length === 2);
    stream.stop();
    expect(messages.map((m) => [m.event, m.id])).toEqual([['alarm.received', '1-1'], ['alarm.accepted', '1-2']]);
    expect(seen).toEqual([{ auth: 'Bearer t0ken', last: undefined }, { auth: 'Bearer t0ken', last: '1-1' }]);
    expect(stream.lastEventId).toBe('1-2');
  });

  it('stops on 401 with the server\'s message: retrying cannot help', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls++;
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 401, message: 'Unknown or revoked token' }));
    });
    const { stream, states, until } = collect(url);
    stream.start();
    await until(() => states.some((s) => s.state === 'refused'));
    expect(states.at(-1)).toEqual({ state: 'refused', status: 401, reason: 'Unknown or revoked token' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toBe(1);
  });

  it('retries after a server error', async () => {
    const url = await serve((_req, res, n) => {
      if (n === 0) return void res.writeHead(503).end('busy');
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: ok\n\n');
    });
    const { stream, messages, states, until } = collect(url);
    stream.start();
    await until(() => messages.length === 1);
    stream.stop();
    expect(states.map((s) => s.state)).toEqual(['connecting', 'retrying', 'connecting', 'live']);
    expect(states[1]).toMatchObject({ reason: 'HTTP 503: busy' });
  });
});
