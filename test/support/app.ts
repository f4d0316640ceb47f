/** A listening api on a free port against the run's emulator, plus small protocol helpers. */
import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { buildApp } from '../../src/api/app.js';
import { createAwsAdapters } from '../../src/aws/adapters.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { testManifests, type TestManifests } from './manifests.js';
import type { ObjectStore } from '../../src/ports/object-store.js';
import type { Config } from '../../src/config.js';
import type { Clock } from '../../src/ports/clock.js';
import { testConfig, queueUrl } from './env.js';
import { memorySlots } from '../../src/memory/slots.js';
import { createRedisLimits } from '../../src/redis/index.js';

export interface TestApi {
  app: FastifyInstance;
  base: string;
  config: Config;
  aws: AwsClients;
  store: ObjectStore;
  manifests: TestManifests;
  close(): Promise<void>;
}

export async function startApi(env: Record<string, string> = {}, opts: { clock?: Clock } = {}): Promise<TestApi> {
  // Port 0 = a free port; the public URL is fixed up once it is known.
  let config = testConfig({ DROPSHIP_PUBLIC_UPLOADS: 'true', PORT: '0', ...env });
  let adapters = createAwsAdapters(config, { queueUrl: queueUrl() });
  const probe = await buildApp({ config, ...adapters, slots: memorySlots(), logger: false });
  await probe.listen({ host: '127.0.0.1', port: 0 });
  const port = (probe.server.address() as { port: number }).port;
  await probe.close();
  config = testConfig({ DROPSHIP_PUBLIC_UPLOADS: 'true', PORT: String(port), ...env });
  adapters = createAwsAdapters(config, { queueUrl: queueUrl(), clients: adapters.clients });
  // DROPSHIP_REDIS_URL in `env`: the limits are counted there, as src/api/server.ts does.
  const redis = config.DROPSHIP_REDIS_URL ? createRedisLimits(config) : undefined;
  const app = await buildApp({
    config,
    ...adapters,
    slots: redis?.slots ?? memorySlots(),
    ...(redis ? { rateLimitRedis: redis.rateLimitRedis } : {}),
    logger: false,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  await app.listen({ host: '127.0.0.1', port });
  return {
    app,
    base: `http://127.0.0.1:${port}`,
    config,
    aws: adapters.clients,
    store: adapters.store,
    manifests: testManifests(adapters.store),
    async close() {
      await app.close();
      await redis?.close();
      adapters.close();
    },
  };
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function api<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    redirect: 'manual',
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: r.status, body: parsed as T, headers: r.headers };
}

export interface Ticket {
  id: string;
  shareUrl: string;
  ownerToken: string;
  status: string;
  upload: { mode: 'single' | 'multipart'; partSize: number; partCount: number; expiresAt: string };
  parts: { partNumber: number; url: string; size: number; expiresAt: string; headers: Record<string, string> }[];
}

export async function createTicket(base: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const r = await api<Ticket>(base, 'POST', '/v1/drops', body, headers);
  if (r.status !== 201) throw new Error(`ticket: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function signAll(base: string, t: Ticket): Promise<Ticket['parts']> {
  const have = new Map(t.parts.map((p) => [p.partNumber, p]));
  const missing = Array.from({ length: t.upload.partCount }, (_, i) => i + 1).filter((n) => !have.has(n));
  for (let i = 0; i < missing.length; i += 100) {
    const r = await api<{ parts: Ticket['parts'] }>(base, 'POST', `/v1/drops/${t.id}/parts`, {
      partNumbers: missing.slice(i, i + 100),
    }, { 'x-owner-token': t.ownerToken });
    if (r.status !== 200) throw new Error(`sign: ${r.status} ${JSON.stringify(r.body)}`);
    for (const p of r.body.parts) have.set(p.partNumber, p);
  }
  return [...have.values()].sort((a, b) => a.partNumber - b.partNumber);
}

/**
 * PUTs bytes to a signed URL with the part entry's `headers`. Without them, sends what the
 * URL signed (`if-none-match: *` for a single PUT), as a client following the entry would;
 * pass `{}` to send nothing extra.
 */
export async function putPart(url: string, data: Uint8Array, headers?: Record<string, string>): Promise<{ status: number; etag: string }> {
  const signed = new URL(url).searchParams.get('X-Amz-SignedHeaders')?.split(';') ?? [];
  const send = headers ?? (signed.includes('if-none-match') ? { 'if-none-match': '*' } : {});
  const r = await fetch(url, { method: 'PUT', body: data as Uint8Array<ArrayBuffer>, headers: send });
  await r.arrayBuffer();
  return { status: r.status, etag: r.headers.get('etag') ?? '' };
}

/** The whole ticket protocol: ticket, every part in parallel (optionally in an order), complete. */
export async function uploadViaTickets(
  base: string,
  data: Uint8Array,
  opts: { name?: string; order?: (n: number[]) => number[]; concurrency?: number } = {},
) {
  const t = await createTicket(base, { name: opts.name ?? 'file.bin', size: data.length });
  const parts = await signAll(base, t);
  const order = (opts.order ?? ((x) => x))(parts.map((p) => p.partNumber));
  const etags: { partNumber: number; etag: string }[] = [];
  const queue = [...order];
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const p = parts[n - 1]!;
      const start = (n - 1) * t.upload.partSize;
      const r = await putPart(p.url, data.subarray(start, start + p.size), p.headers);
      if (r.status !== 200) throw new Error(`part ${n}: ${r.status}`);
      etags.push({ partNumber: n, etag: r.etag });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  const done = await api(base, 'POST', `/v1/drops/${t.id}/complete`, { parts: etags }, { 'x-owner-token': t.ownerToken });
  return { ticket: t, complete: done };
}

export async function download(base: string, id: string): Promise<{ status: number; data?: Buffer; location?: string; disposition?: string | null }> {
  const r = await fetch(`${base}/d/${id}/download`, { redirect: 'manual' });
  await r.arrayBuffer();
  if (r.status !== 302) return { status: r.status };
  const location = r.headers.get('location')!;
  const f = await fetch(location);
  return {
    status: f.status,
    data: Buffer.from(await f.arrayBuffer()),
    location,
    disposition: f.headers.get('content-disposition'),
  };
}

/**
 * What a bucket holds, for "nothing left behind" checks: open multipart uploads, published
 * originals, drops not cancelled, and drops still uploading. A rolled-back upload changes
 * none of these (its manifest, if any, stays as a cancelled tombstone).
 */
export async function bucketState(store: ObjectStore) {
  const keys = await store.listKeys('drops/');
  const manifests = await Promise.all(
    keys.filter((k) => k.endsWith('/manifest.json')).map(async (k) => JSON.parse((await store.getText(k))!.text) as { status: string }),
  );
  return {
    uploads: (await store.listMultipartUploads('drops/')).length,
    originals: keys.filter((k) => k.endsWith('/original')).length,
    live: manifests.filter((m) => m.status !== 'cancelled').length,
    uploading: manifests.filter((m) => m.status === 'uploading').length,
  };
}
