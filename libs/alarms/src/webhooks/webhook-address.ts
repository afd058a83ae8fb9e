import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may point: a public unicast address. A webhook URL is an outbound request the
 * platform makes on an integrator's behalf; without this check it could be aimed at the platform's
 * own loopback services, the private network it runs in, or a cloud metadata service.
 * AMR_WEBHOOK_ALLOW_PRIVATE=1 lifts it (a receiver on a private network, tests).
 */
const RANGES: readonly [kind: string, cidr: string, family: 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0/8', 'ipv4'],
  ['private', '10.0.0.0/8', 'ipv4'],
  ['carrier-grade NAT', '100.64.0.0/10', 'ipv4'],
  ['loopback', '127.0.0.0/8', 'ipv4'],
  ['link-local or metadata', '169.254.0.0/16', 'ipv4'],
  ['private', '172.16.0.0/12', 'ipv4'],
  ['private', '192.168.0.0/16', 'ipv4'],
  ['multicast or reserved', '224.0.0.0/3', 'ipv4'],
  ['unspecified', '::/128', 'ipv6'],
  ['loopback', '::1/128', 'ipv6'],
  ['unique local or metadata', 'fc00::/7', 'ipv6'],
  ['link-local', 'fe80::/10', 'ipv6'],
  ['multicast', 'ff00::/8', 'ipv6'],
];

const blocks = RANGES.map(([kind, cidr, family]) => {
  const list = new BlockList();
  const [network, prefix] = cidr.split('/') as [string, string];
  list.addSubnet(network, Number(prefix), family);
  return { kind, list, family };
});

/** Why `address` (an IP literal) may not receive webhooks, e.g. "loopback"; undefined for a public address. */
export function nonPublicKind(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  // An IPv4 address written as IPv6 (::ffff:a.b.c.d, or its hex form) is judged as IPv4.
  const mapped = /^::ffff:(.+)$/i.exec(bare);
  if (mapped) {
    const tail = mapped[1]!;
    if (isIP(tail) === 4) return nonPublicKind(tail);
    const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
    if (hex) {
      const n = (parseInt(hex[1]!, 16) << 16) | parseInt(hex[2]!, 16);
      return nonPublicKind([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'));
    }
  }
  const family = isIP(bare) === 4 ? 'ipv4' : isIP(bare) === 6 ? 'ipv6' : undefined;
  if (!family) return 'not an IP address';
  return blocks.find((b) => b.family === family && b.list.check(bare, family))?.kind;
}

/** The hint every refusal ends with. */
const HINT = 'webhooks go to public addresses only (AMR_WEBHOOK_ALLOW_PRIVATE=1 allows private ones)';

/**
 * Checked when a webhook URL is registered: http(s) only; a host given as an IP address must be
 * public, and `localhost` (RFC 6761) is refused by name. Other names are checked each time they
 * are resolved, at delivery (guardedLookup). Returns what is wrong, or undefined.
 */
export function webhookUrlProblem(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'webhookUrl is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'webhookUrl must be an http:// or https:// URL';
  if (allowPrivate) return undefined;
  // The WHATWG parser has already normalised 0x7f.1, 2130706433 and the like to dotted IPv4.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const kind = nonPublicKind(host);
    return kind ? `webhookUrl points to ${host}, a ${kind} address: ${HINT}` : undefined;
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return `webhookUrl points to ${host}, a loopback name: ${HINT}`;
  return undefined;
}

/** Raised by guardedLookup; its message is what the delivery records as the attempt's error. */
export class WebhookAddressRefused extends Error {
  readonly code = 'AMR_WEBHOOK_ADDRESS_REFUSED';
}

type Resolve = (host: string) => Promise<LookupAddress[]>;
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

const systemResolve: Resolve = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/**
 * A `lookup` for node's http(s).request: resolves the name once, refuses it if *any* of its
 * addresses is not public, and hands the connection exactly the addresses it checked. So a name
 * that resolved to a public address when it was registered, and resolves to 127.0.0.1 or
 * 169.254.169.254 now (DNS rebinding), is refused; nothing resolves the name a second time.
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolve = systemResolve) {
  return (host: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolve(host).then(
      (addresses) => {
        const bad = allowPrivate ? undefined : addresses.map((a) => ({ a, kind: nonPublicKind(a.address) })).find((x) => x.kind);
        if (bad) return callback(new WebhookAddressRefused(`${host} resolves to ${bad.a.address}, a ${bad.kind} address: ${HINT}`), '');
        if (addresses.length === 0) return callback(Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' }), '');
        if (options.all) return callback(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
