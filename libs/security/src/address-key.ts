import { isIPv4, isIPv6 } from 'node:net';

/**
 * The unit a limit per source address counts by (the broker's, the HTTP API's): an IPv4 address
 * (also when it arrives IPv4-mapped on a dual-stack socket, `::ffff:192.0.2.1`), an IPv6 /64 (one
 * subscriber's allocation, which its holder can rotate through), or the address as given when it
 * is neither (in-memory streams have none: `unknown`).
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  if (isIPv4(address)) return address;
  const zoneless = address.split('%')[0]!;
  if (!isIPv6(zoneless)) return address;
  const groups = ipv6Groups(zoneless);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a trailing dotted quad as two groups). */
function ipv6Groups(address: string): number[] {
  const parts = (text: string): number[] =>
    text === ''
      ? []
      : text.split(':').flatMap((part) => {
          if (!part.includes('.')) return [parseInt(part, 16)];
          const [a, b, c, d] = part.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = address.split('::');
  if (tail === undefined) return parts(head);
  const h = parts(head);
  const t = parts(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}
