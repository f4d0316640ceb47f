/** The api under test as its own process, and the curl-style streaming client. */
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { BENCH_API_KEY, type BenchContext } from './env.js';
import { freePort, startChild, waitHealthy, type Child } from './proc.js';

export interface ApiProcess {
  base: string;
  child: Child;
  pid: number;
  stop(): Promise<void>;
}

/** `node --import tsx src/api/server.ts` with the bench's environment; resolves once /healthz answers. */
export async function startApi(ctx: BenchContext, overrides: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await freePort();
  const child = startChild('src/api/server.ts', { ...ctx.env, PORT: String(port), ...overrides }, 'api', ctx.productRoot);
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(`${base}/healthz`, child, 60_000, 'api');
  } catch (e) {
    await child.stop();
    throw e;
  }
  return { base, child, pid: child.pid, stop: () => child.stop() };
}

export interface StreamPutResult {
  status: number;
  dropId: string | undefined;
  text: string;
}

/**
 * What `curl -T file http://host/v1/stream/name` does: one PUT with Content-Length, the body
 * streamed (backpressure from the socket), the share URL as the answer.
 */
export function streamPut(
  base: string,
  name: string,
  body: Readable,
  length: number,
  opts: { signal?: AbortSignal; apiKey?: string } = {},
): Promise<StreamPutResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(`/v1/stream/${encodeURIComponent(name)}`, base);
    const req = request(
      {
        method: 'PUT',
        hostname: u.hostname,
        port: u.port,
        path: u.pathname,
        headers: {
          'content-length': String(length),
          'content-type': 'application/octet-stream',
          authorization: `Bearer ${opts.apiKey ?? BENCH_API_KEY}`,
        },
        agent: false,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            dropId: (res.headers['x-drop-id'] as string | undefined) ?? undefined,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    body.on('error', (e) => req.destroy(e));
    body.pipe(req);
  });
}

const BLOCK = randomBytes(1024 * 1024);

/**
 * `length` bytes made on the fly (a random 1 MiB block repeated; nothing compresses on the
 * way, and nothing is written to disk), pulled at the pace the socket allows.
 */
export function generatedBody(length: number): Readable {
  let left = length;
  return new Readable({
    highWaterMark: 1024 * 1024,
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, BLOCK.length);
      left -= n;
      this.push(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n));
    },
  });
}
