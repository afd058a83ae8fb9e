import { describe, expect, it } from '@jest/globals';
import { SseParser } from './cic.js';

describe(SseParser.name, () => {
  it('parses named events split across chunks at any point', () => {
    const text = 'event: alarm.received\ndata: {"id":"a1","deviceId":"d1"}\n\n: keep-alive comment\nevent: alarm.accepted\r\ndata: {"id":"a1"}\r\n\r\n';
    for (let cut = 0; cut < text.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(events).toEqual([
        { event: 'alarm.received', data: '{"id":"a1","deviceId":"d1"}' },
        { event: 'alarm.accepted', data: '{"id":"a1"}' },
      ]);
    }
  });

  it('joins multi-line data, defaults the event name and keeps the id', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\ndata: a\ndata:b\n\n')).toEqual([{ event: 'message', data: 'a\nb', id: '7' }]);
  });

  it('ignores an event without data', () => {
    expect(new SseParser().push('event: keepalive\n\n')).toEqual([]);
  });
});
