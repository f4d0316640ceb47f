// Who a request comes from, for per-client limits (rate limit, open tickets, event streams,
// streaming uploads). An IPv4 client is its address; an IPv6 client is its /64 — one
// subscriber usually holds a whole /64, so counting single addresses would let one client
// take 2^64 buckets. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) counts as the IPv4 address.
import { isIPv4, isIPv6 } from 'node:net';

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail is converted), or undefined. */
export function ipv6Groups(addr: string): number[] | undefined {
  const a = addr.replace(/%.*$/, '').toLowerCase();
  if (!isIPv6(a)) return undefined;
  let s = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    s = `${s.slice(0, -v4[1]!.length)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  const groups = [...h, ...fill, ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The bucket a client address falls into: `ip:1.2.3.4`, `ip:2001:db8:0:1::/64`. Anything
 * unparseable is kept as it is (it still separates clients, just not by prefix).
 */
export function clientKey(addr: string): string {
  if (isIPv4(addr)) return `ip:${addr}`;
  const g = ipv6Groups(addr);
  if (!g) return `ip:${addr}`;
  // ::ffff:a.b.c.d — an IPv4 client on a dual-stack socket.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `ip:${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  }
  return `ip:${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

/**
 * Requests a person's browser makes to show a page: the upload app and its files, a share
 * page, its thumbnails and its download link, a collection's page. They get their own per-client budget, so an
 * office behind one address viewing share pages never spends the api's.
 */
export function isPageRequest(method: string, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = url.split('?', 1)[0]!;
  return (
    path === '/' ||
    path === '/favicon.svg' ||
    path.startsWith('/assets/') ||
    /^\/d\/[^/]+(?:\/download|\/thumb\/\d+)?$/.test(path) ||
    /^\/c\/[^/]+$/.test(path)
  );
}
