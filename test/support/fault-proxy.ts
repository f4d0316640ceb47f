/**
 * A fault-injecting HTTP proxy between dropship and the emulator, on 127.0.0.1 only.
 * Rules match a request (method + URL, optionally the SQS operation) and answer with an error
 * status, delay it, hold its response after the emulator has done the work, hold the request
 * itself, call back (to kill a process at that exact request), or refuse connections altogether
 * ("storage down"). The Host header is passed through unchanged, so SigV4 signatures made
 * for the proxy's address still verify at the emulator.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface FaultRule {
  method?: string;
  url: RegExp;
  /** Answer this status instead of forwarding (S3-style XML error body). */
  status?: number;
  /** Forward, but wait this long before answering. */
  delayMs?: number;
  /** Forward and let the emulator act, then never answer (until the client gives up). */
  swallowResponse?: boolean;
  /** How many matching requests this rule applies to (default: all). */
  times?: number;
  /** Also match the `x-amz-target` header (the SQS operation, e.g. `AmazonSQS.SendMessage`). */
  target?: RegExp;
  /** Never forward and never answer (the request simply hangs until the client goes). */
  hold?: boolean;
  /** Called when a request matches, before anything else happens to it (e.g. to kill the client). */
  onHit?: () => void;
}

export interface FaultProxy {
  url: string;
  rules: FaultRule[];
  /** Requests that matched a rule, as "METHOD url". */
  hits: string[];
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  const rules: FaultRule[] = [];
  const hits: string[] = [];
  const sockets = new Set<Socket>();

  const match = (req: IncomingMessage) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const rule = rules.find(
      (r) => (!r.method || r.method === req.method) && r.url.test(req.url ?? '') && (!r.target || r.target.test(target)) && (r.times ?? 1) > 0,
    );
    if (rule && rule.times !== undefined) rule.times--;
    if (rule) hits.push(`${req.method} ${req.url}${target ? ` ${target}` : ''}`);
    return rule;
  };

  const handler = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const rule = match(req);
    rule?.onHit?.();
    if (rule?.hold) {
      req.resume();
      return;
    }
    if (rule?.status) {
      req.resume();
      res.writeHead(rule.status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${rule.status === 503 ? 'SlowDown' : 'InternalError'}</Code><Message>injected</Message></Error>`);
      return;
    }
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        const answer = () => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        };
        if (rule?.swallowResponse) {
          upRes.resume();
          return;
        }
        if (rule?.delayMs) setTimeout(answer, rule.delayMs);
        else answer();
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  };

  let server: Server = createServer(handler);
  const listen = (port: number) =>
    new Promise<number>((resolve) => {
      server = createServer(handler);
      server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });

  return {
    url: `http://127.0.0.1:${port}`,
    rules,
    hits,
    down: stop,
    up: async () => void (await listen(port)),
    close: stop,
  };
}
