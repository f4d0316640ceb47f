/**
 * A counting reverse proxy in front of the emulator: the process under test gets
 * `AWS_ENDPOINT_URL` = this proxy, and every request it makes is forwarded unchanged (method,
 * path, query, headers — the Host header included, which SigV4 signed — and the body
 * streamed both ways) and counted by operation. SQS requests (the JSON protocol's
 * `X-Amz-Target`) pass through too and are counted apart, under `sqs:<Action>`.
 *
 * Its own CPU is the bench process's, never the process under test's: the /proc figures of
 * the api or worker do not include it (its latency, a loopback hop, does delay them a little).
 */
import { createServer, request, Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import { GetObjectCommand, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createAwsClients, destroyAwsClients } from '../../../src/aws/clients.js';
import { loadConfig } from '../../../src/config.js';
import type { BenchContext } from './env.js';

/** One request that went through, as the proxy saw it. */
export interface CountedRequest {
  /** e.g. `GetObject`, `ListObjectsV2`, `DeleteObjects`, `sqs:ReceiveMessage`. */
  op: string;
  method: string;
  /** The object key (path-style, after the bucket), '' for bucket-level requests. */
  key: string;
  /** The `prefix` query parameter of a listing, else undefined. */
  prefix?: string;
  /** performance.now() when the request arrived, and when its answer ended (undefined while in flight). */
  at: number;
  doneAt?: number;
  status?: number;
}

export interface S3Counter {
  /** The URL to give the process under test as AWS_ENDPOINT_URL. */
  url: string;
  /** Requests since the last reset, in arrival order. */
  requests(): CountedRequest[];
  /** Counts by operation since the last reset. */
  counts(): Record<string, number>;
  /** S3 requests (everything but `sqs:*`) since the last reset. */
  s3Total(): number;
  /** S3 requests (not SQS long polls) still waiting for their answer. */
  inFlightS3(): number;
  reset(): void;
  /** Called for every request once its answer has ended. */
  onDone(listener: ((r: CountedRequest) => void) | undefined): void;
  close(): Promise<void>;
}

const has = (q: URLSearchParams, k: string) => q.has(k);

/** The S3 (or SQS) operation of a request, from its method, path-style URL and headers. */
export function classify(method: string, rawUrl: string, headers: IncomingHttpHeaders): { op: string; key: string; prefix?: string } {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return { op: `sqs:${target.split('.').pop()}`, key: '' };
  const u = new URL(rawUrl, 'http://proxy');
  if (u.pathname.startsWith('/_localstack')) return { op: 'emulator', key: '' };
  const [, , ...rest] = u.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const q = u.searchParams;
  const prefix = q.get('prefix') ?? undefined;
  const object = key !== '';
  const m = method.toUpperCase();
  let op: string;
  if (!object) {
    if (m === 'GET') op = has(q, 'list-type') ? 'ListObjectsV2' : has(q, 'uploads') ? 'ListMultipartUploads' : has(q, 'location') ? 'GetBucketLocation' : 'ListObjects';
    else if (m === 'POST' && has(q, 'delete')) op = 'DeleteObjects';
    else if (m === 'HEAD') op = 'HeadBucket';
    else op = `${m} bucket`;
  } else if (m === 'GET') op = has(q, 'tagging') ? 'GetObjectTagging' : has(q, 'uploadId') ? 'ListParts' : 'GetObject';
  else if (m === 'HEAD') op = 'HeadObject';
  else if (m === 'PUT') {
    op = has(q, 'tagging') ? 'PutObjectTagging' : has(q, 'partNumber') ? (headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart') : headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
  } else if (m === 'DELETE') op = has(q, 'uploadId') ? 'AbortMultipartUpload' : has(q, 'tagging') ? 'DeleteObjectTagging' : 'DeleteObject';
  else if (m === 'POST') op = has(q, 'uploads') ? 'CreateMultipartUpload' : has(q, 'uploadId') ? 'CompleteMultipartUpload' : 'PostObject';
  else op = `${m} object`;
  return { op, key, ...(prefix !== undefined ? { prefix } : {}) };
}

/** Starts the proxy on 127.0.0.1 (a free port) in front of `upstream` (the emulator's endpoint). */
export async function startS3Counter(upstream: string): Promise<S3Counter> {
  const up = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let log: CountedRequest[] = [];
  let inFlightS3 = 0;
  let listener: ((r: CountedRequest) => void) | undefined;
  const server: Server = createServer((req, res) => {
    const rec: CountedRequest = { ...classify(req.method ?? 'GET', req.url ?? '/', req.headers), method: req.method ?? 'GET', at: performance.now() };
    log.push(rec);
    const s3 = !rec.op.startsWith('sqs:');
    if (s3) inFlightS3++;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      if (s3) inFlightS3--;
      rec.doneAt = performance.now();
      listener?.(rec);
    };
    // Headers exactly as signed (Host included): the emulator checks the signature against them.
    const out = request(
      { hostname: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent },
      (ures) => {
        rec.status = ures.statusCode;
        res.writeHead(ures.statusCode ?? 502, ures.statusMessage, ures.rawHeaders);
        ures.pipe(res);
        ures.on('end', finish);
        ures.on('error', () => res.destroy());
      },
    );
    out.on('error', (e) => {
      finish();
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`s3-counter: ${e.message}`);
      else res.destroy();
    });
    res.on('close', () => {
      // The client went away (e.g. an aborted long poll): stop the upstream request too.
      if (!out.destroyed && !finished) out.destroy();
      finish();
    });
    req.pipe(out);
  });
  // Long polls (SQS waits up to 20 s) and idle keep-alive sockets must not be cut by the proxy.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...log],
    counts() {
      const c: Record<string, number> = {};
      for (const r of log) c[r.op] = (c[r.op] ?? 0) + 1;
      return c;
    },
    s3Total: () => log.filter((r) => !r.op.startsWith('sqs:') && r.op !== 'emulator').length,
    inFlightS3: () => inFlightS3,
    reset() {
      log = [];
    },
    onDone(l) {
      listener = l;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}

/**
 * Proves the proxy keeps signatures valid, before anything is measured through it: an SDK
 * client pointed at the proxy (so it signs the proxy's host, as the process under test will)
 * puts and gets an object; a URL presigned for the proxy's host is fetched through it (200,
 * same bytes) and, with one signature character changed, refused (403) — so the emulator does
 * check what arrives. The counter must have seen the PutObject and GetObjects. Throws otherwise.
 */
export async function verifyCounter(ctx: BenchContext, counter: S3Counter): Promise<void> {
  const config = loadConfig({ ...ctx.env, AWS_ENDPOINT_URL: counter.url });
  const aws = createAwsClients(config);
  const Bucket = config.DROPSHIP_BUCKET;
  const Key = `bench-counter/${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const body = `counted ${Key}`;
  const before = counter.counts();
  try {
    await aws.s3.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentType: 'text/plain' }));
    const got = await aws.s3.send(new GetObjectCommand({ Bucket, Key }));
    const text = await got.Body!.transformToString();
    if (text !== body) throw new Error(`s3-counter: GetObject through the proxy returned other bytes (${JSON.stringify(text.slice(0, 60))})`);
    const url = await getSignedUrl(aws.s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 60 });
    const ok = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const okText = await ok.text();
    if (ok.status !== 200 || okText !== body) throw new Error(`s3-counter: a presigned GET through the proxy answered ${ok.status}`);
    const u = new URL(url);
    const sig = u.searchParams.get('X-Amz-Signature')!;
    u.searchParams.set('X-Amz-Signature', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
    const bad = await fetch(u, { signal: AbortSignal.timeout(10_000) });
    await bad.arrayBuffer();
    if (bad.status !== 403) throw new Error(`s3-counter: a tampered presigned GET through the proxy answered ${bad.status}, not 403 (is signature validation off?)`);
    const after = counter.counts();
    const seen = (op: string) => (after[op] ?? 0) - (before[op] ?? 0);
    if (seen('PutObject') < 1 || seen('GetObject') < 3) throw new Error(`s3-counter: counted ${JSON.stringify(after)}; expected a PutObject and 3 GetObjects`);
  } finally {
    await aws.s3.send(new DeleteObjectCommand({ Bucket, Key })).catch(() => {});
    destroyAwsClients(aws);
  }
}
