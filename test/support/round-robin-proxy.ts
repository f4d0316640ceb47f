/**
 * A small round-robin load balancer on 127.0.0.1 in front of several api replicas, for the
 * multi-replica tests: each request goes to the next live upstream in turn, so a client's
 * ticket, part signing, complete, status reads and event streams land on different replicas.
 *
 * Like a load balancer with health checks, it skips a dead upstream: a request refused at
 * connect (nothing reached the replica) is sent to the next one, and the refusing upstream is
 * skipped for DEAD_MS. A replica dying while it holds a request (the request may have been
 * acted on) answers 502, as a real load balancer does, and the client's retries take over.
 * Request bodies are buffered (the api's JSON bodies are small); responses are streamed, so
 * server-sent events pass through as they come. `avoid` keeps matching requests away from an
 * upstream (draining it before it is killed), `inFlight` counts what one holds.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const DEAD_MS = 2000;

export type RouteKind = 'ticket' | 'parts' | 'complete' | 'status' | 'events' | 'other';

export function routeKind(method: string, url: string): RouteKind {
  const path = url.split('?')[0]!;
  if (method === 'POST' && path === '/v1/drops') return 'ticket';
  if (/^\/v1\/drops\/[^/]+\/parts$/.test(path)) return 'parts';
  if (method === 'POST' && /^\/v1\/drops\/[^/]+\/complete$/.test(path)) return 'complete';
  if (method === 'GET' && /^\/v1\/drops\/[^/]+\/events$/.test(path)) return 'events';
  if (method === 'GET' && /^\/v1\/drops\/[^/]+$/.test(path)) return 'status';
  return 'other';
}

export interface RoundRobinProxy {
  url: string;
  /** Requests each upstream answered, by kind of route. */
  served: Map<string, Record<RouteKind, number>>;
  /** Requests answered 502 because their upstream died holding them; requests moved to another upstream after a refused connect. */
  stats: { lost: number; failedOver: number };
  /** Sends requests for which `test` holds to the other upstreams from now on. */
  avoid(upstream: string, test: (method: string, url: string) => boolean): void;
  /** Requests `upstream` holds now for which `test` holds. */
  inFlight(upstream: string, test?: (method: string, url: string) => boolean): number;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(upstreams: string[]): Promise<RoundRobinProxy> {
  const served = new Map(upstreams.map((u) => [u, { ticket: 0, parts: 0, complete: 0, status: 0, events: 0, other: 0 } as Record<RouteKind, number>]));
  const deadUntil = new Map<string, number>();
  const avoided = new Map<string, ((m: string, u: string) => boolean)[]>();
  const holding = new Map<string, Set<IncomingMessage>>(upstreams.map((u) => [u, new Set()]));
  const stats = { lost: 0, failedOver: 0 };
  const sockets = new Set<Socket>();
  let next = 0;

  /** The upstreams to try for this request, in order: the next in turn first, dead and avoiding ones left out. */
  function order(method: string, url: string): string[] {
    const start = next++ % upstreams.length;
    const turn = upstreams.map((_, i) => upstreams[(start + i) % upstreams.length]!);
    const now = Date.now();
    return turn.filter((u) => (deadUntil.get(u) ?? 0) <= now && !(avoided.get(u) ?? []).some((t) => t(method, url)));
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, tries: string[]) {
    const upstream = tries[0];
    if (!upstream) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ error: { code: 'STORAGE_UNAVAILABLE', message: 'no live upstream' } }));
      return;
    }
    const u = new URL(upstream);
    const held = holding.get(upstream)!;
    // A fresh connection per request (no pool): a dead replica is a refused connect, never a
    // pooled socket that turns out closed after the request was written.
    const out = request(
      { host: u.hostname, port: u.port, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(body.length) }, agent: false },
      (up) => {
        served.get(upstream)![routeKind(req.method ?? 'GET', req.url ?? '/')]++;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('error', () => res.destroy());
        up.on('close', () => held.delete(req));
      },
    );
    held.add(req);
    out.on('error', (e: NodeJS.ErrnoException) => {
      held.delete(req);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e.code === 'ECONNREFUSED') {
        deadUntil.set(upstream, Date.now() + DEAD_MS);
        stats.failedOver++;
        forward(req, res, body, tries.slice(1));
        return;
      }
      stats.lost++;
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'upstream went away' } }));
    });
    // The client leaving (an event stream closed) ends the upstream request too.
    res.on('close', () => out.destroy());
    out.end(body);
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), order(req.method ?? 'GET', req.url ?? '/')));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;

  return {
    url: `http://127.0.0.1:${port}`,
    served,
    stats,
    avoid(upstream, test) {
      avoided.set(upstream, [...(avoided.get(upstream) ?? []), test]);
    },
    inFlight(upstream, test = () => true) {
      return [...holding.get(upstream)!].filter((r) => test(r.method ?? 'GET', r.url ?? '/')).length;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
