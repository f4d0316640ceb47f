/**
 * Benchmark 8 — api replicas: ticket creation (POST /v1/drops for a 1 GiB file, the request
 * of the signing suite's "ticket creation" route) on two api processes sharing one
 * redis-server (DROPSHIP_REDIS_URL: rate limits, open tickets and upload slots counted across
 * both) against one api process without Redis. Load: two autocannon instances at once, one
 * per replica, 5 connections each, summed, vs one with 10 connections on the single replica;
 * the setups interleaved, order alternating per repetition. Also two api processes without
 * Redis (reported), which tells what Redis costs from what a second replica brings. CPU of
 * every process (the apis, redis-server, the emulator, the load generator) from /proc.
 *
 * Also (reported only) collections on the single replica: GET /v1/collections/:id of a
 * collection of 100 drops under load, and 50 concurrent POST /v1/collections/:id/drops into
 * one empty collection (all must land: conditional writes).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hashOwnerToken, newDropId, newOwnerToken } from '../../../src/core/ids.js';
import { apply, newManifest, type Manifest } from '../../../src/core/manifest.js';
import { createManifestRepo } from '../../../src/ports/manifests.js';
import { indexForKey } from '../../../src/ports/key-index.js';
import type { ObjectStore } from '../../../src/ports/object-store.js';
import { BENCH_API_KEY, abortUploads, type BenchContext } from '../lib/env.js';
import { startApi, type ApiProcess } from '../lib/api.js';
import { cpuOf, sampleProc, trackChild } from '../lib/proc.js';
import { load, type LoadResult, type LoadSpec } from '../lib/load.js';
import { GIB, percentile } from '../lib/stats.js';
import { seedingStore } from '../lib/emulator.js';
import { redisServerBinary, startRedis } from '../../support/redis-server.js';

/** two-redis: the setup under budget; one: its baseline; two: two replicas without Redis (reported, to tell Redis's cost from the second replica's). */
export type ReplicaSetup = 'two-redis' | 'one' | 'two';

export interface ReplicaRun {
  setup: ReplicaSetup;
  rep: number;
  /** One result per autocannon instance (per replica). */
  results: LoadResult[];
  /** Tickets per second, all replicas together. */
  reqPerSec: number;
  /** CPU seconds during the run: each api, then redis-server and the emulator. */
  apiCpuSeconds: number[];
  redisCpuSeconds?: number;
  emulatorCpuSeconds?: number;
  /** The bench process (the autocannon instances). */
  loadGeneratorCpuSeconds: number;
  /** Cores busy on the whole machine meanwhile, everyone's processes included (/proc/stat). */
  machineCoresBusy: number;
  seconds: number;
}

export interface CollectionsResult {
  drops: number;
  /** p50 of 5 GETs one at a time (ms). */
  getAloneMs: number;
  get: LoadResult[];
  connections: number;
  duration: number;
  /** 50 concurrent adds into one empty collection. */
  adds: {
    attempted: number;
    /** Status of each add's first request, and of its last (503s are retried after Retry-After). */
    firstStatuses: Record<string, number>;
    finalStatuses: Record<string, number>;
    requests: number;
    /** Drops in the collection afterwards. */
    landed: number;
    /** Until every add had its final answer. */
    ms: number;
  }[];
}

export interface ReplicasResults {
  connections: number;
  duration: number;
  warmup: number;
  redis: string;
  runs: ReplicaRun[];
  collections?: CollectionsResult;
  cleanup: { abortedUploads: number; deletedObjects: number };
}

interface Redis {
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/** A redis-server of its own (the tests' starter: free loopback port, nothing on disk, bounded start), killed with the bench. */
async function startRedisServer(): Promise<Redis> {
  const version = spawnSync(redisServerBinary(), ['--version'], { encoding: 'utf8' }).stdout.trim();
  const server = await startRedis();
  trackChild(server.child);
  return { url: server.url, pid: server.child.pid!, version, stop: () => server.stop() };
}

/** Busy and total jiffies of all cores together (/proc/stat). */
function machineJiffies(): { busy: number; total: number; cores: number } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const f = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total, cores: lines.filter((l) => /^cpu\d+ /.test(l)).length };
}

/** CPU seconds of one pid now, NaN once it is gone. */
const cpu = (pid: number) => {
  try {
    return sampleProc(pid).cpuSeconds;
  } catch {
    return NaN;
  }
};

export async function runReplicas(ctx: BenchContext): Promise<ReplicasResults> {
  const connections = 10;
  const duration = ctx.quick ? 3 : 10;
  const warmup = ctx.quick ? 1 : 3;
  const runs: ReplicaRun[] = [];
  const cleanup = { abortedUploads: 0, deletedObjects: 0 };
  let redis: Redis | undefined;
  const apis: ApiProcess[] = [];
  const emuPids = ctx.emulatorPids;
  // What the bucket held before: only what this suite adds is deleted.
  const before = new Set(await ctx.store.listKeys(''));
  const tidy = async () => {
    cleanup.abortedUploads += await abortUploads(ctx.store, 'drops/', 90_000);
    const keys = (await ctx.store.listKeys('')).filter((k) => !before.has(k));
    for (let i = 0; i < keys.length; i += 1000) await ctx.store.deleteKeys(keys.slice(i, i + 1000));
    cleanup.deletedObjects += keys.length;
  };
  let collections: CollectionsResult | undefined;
  try {
    redis = await startRedisServer();
    // Started one after the other (each waits for /healthz): the single replica, then the pair.
    const single = await startApi(ctx);
    apis.push(single);
    const pair = [await startApi(ctx, { DROPSHIP_REDIS_URL: redis.url }), await startApi(ctx, { DROPSHIP_REDIS_URL: redis.url })];
    apis.push(...pair);
    const plainPair = [await startApi(ctx), await startApi(ctx)];
    apis.push(...plainPair);

    const spec = (api: ApiProcess): LoadSpec => ({
      url: `${api.base}/v1/drops`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
      body: JSON.stringify({ name: 'bench-ticket.bin', size: GIB }),
    });
    for (const api of apis) {
      const r = await fetch(spec(api).url, { method: 'POST', headers: spec(api).headers, body: spec(api).body });
      const t = (await r.json()) as { upload?: { partCount?: number }; parts?: unknown[] };
      if (r.status !== 201 || !t.parts?.length) throw new Error(`POST /v1/drops answered ${r.status}: ${JSON.stringify(t).slice(0, 300)}`);
    }

    const runSetup = async (setup: ReplicaSetup, rep: number, seconds: number, record: boolean) => {
      const targets = setup === 'one' ? [single] : setup === 'two' ? plainPair : pair;
      const perConnections = setup === 'one' ? connections : connections / 2;
      const a0 = targets.map((a) => cpu(a.pid));
      const r0 = setup === 'two-redis' ? cpu(redis!.pid) : NaN;
      const e0 = emuPids.length ? cpuOf(emuPids) : NaN;
      const g0 = cpu(process.pid);
      const m0 = machineJiffies();
      const t0 = performance.now();
      const results = await Promise.all(targets.map((a) => load(spec(a), { connections: perConnections, duration: seconds })));
      const wall = (performance.now() - t0) / 1000;
      const m1 = machineJiffies();
      const run: ReplicaRun = {
        setup,
        rep,
        results,
        reqPerSec: results.reduce((s, r) => s + r.reqPerSec, 0),
        apiCpuSeconds: targets.map((a, i) => cpu(a.pid) - a0[i]!),
        ...(setup === 'two-redis' ? { redisCpuSeconds: cpu(redis!.pid) - r0 } : {}),
        ...(emuPids.length ? { emulatorCpuSeconds: cpuOf(emuPids) - e0 } : {}),
        loadGeneratorCpuSeconds: cpu(process.pid) - g0,
        machineCoresBusy: (m0.cores * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
        seconds: wall,
      };
      await tidy();
      if (!record) return;
      runs.push(run);
      ctx.log(
        `  replicas ${setup.padEnd(9)} rep ${rep}: ${run.reqPerSec.toFixed(0)} tickets/s (${results.map((r) => r.reqPerSec.toFixed(0)).join(' + ')}), ` +
          `p99 ${results.map((r) => r.p99).join('/')} ms, non-2xx ${results.reduce((s, r) => s + r.non2xx, 0)}, errors ${results.reduce((s, r) => s + r.errors, 0)}, ` +
          `api CPU ${run.apiCpuSeconds.map((c) => c.toFixed(1)).join('+')} s${run.redisCpuSeconds !== undefined ? `, redis ${run.redisCpuSeconds.toFixed(2)} s` : ''}` +
          `${run.emulatorCpuSeconds !== undefined ? `, emulator ${run.emulatorCpuSeconds.toFixed(1)} s` : ''}, load generator ${run.loadGeneratorCpuSeconds.toFixed(1)} s, ` +
          `machine ${run.machineCoresBusy.toFixed(2)}/${machineJiffies().cores} cores busy`,
      );
    };
    const setups: ReplicaSetup[] = ['two-redis', 'one', 'two'];
    for (const setup of setups) await runSetup(setup, 0, warmup, false);
    for (let rep = 1; rep <= ctx.reps; rep++) {
      const order = rep % 2 ? setups : [...setups].reverse();
      for (const setup of order) await runSetup(setup, rep, duration, true);
    }

    collections = await measureCollections(ctx, single, ctx.quick ? 5 : duration, warmup);
    return { connections, duration, warmup, redis: redis.version, runs, collections, cleanup };
  } finally {
    for (const a of apis) await a.stop();
    await redis?.stop();
    await tidy().catch(() => {});
  }
}

/** A ready drop of the bench key (index entry and manifest, as the api and worker leave them), with its owner token. */
async function seedDrop(store: ObjectStore, keyId: string, n: number): Promise<{ id: string; ownerToken: string }> {
  const ownerToken = newOwnerToken();
  const now = new Date();
  let m: Manifest = newManifest({
    id: newDropId(),
    name: `photo-${n}.jpg`,
    size: 2_000_000 + n,
    type: 'image/jpeg',
    ownerTokenHash: hashOwnerToken(ownerToken),
    upload: { mode: 'single', partSize: 2_000_000 + n, partCount: 1 },
    source: 'ticket',
    now,
    expiresAt: new Date(now.getTime() + 86_400_000),
    uploadExpiresAt: new Date(now.getTime() + 3_600_000),
    keyId,
  });
  for (const e of [
    { type: 'complete' as const, at: now },
    { type: 'processed' as const, at: now, sniffedType: 'image/jpeg', width: 4000, height: 3000, thumbnail: 'none' as const, thumbnails: [] },
  ]) {
    const r = apply(m, e);
    if (r.ok) m = r.manifest;
  }
  await indexForKey(store, m);
  await createManifestRepo(store).create(m);
  return { id: m.id, ownerToken };
}

async function measureCollections(ctx: BenchContext, api: ApiProcess, duration: number, warmup: number): Promise<CollectionsResult> {
  const keyId = ctx.config.keys[0]!.id;
  const auth = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` };
  const dropsCount = 100;
  const addsCount = 50;
  const drops: { id: string; ownerToken: string }[] = [];
  let next = 0;
  const seeding = seedingStore(ctx);
  try {
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < dropsCount + addsCount * ctx.reps) {
          const n = next++;
          drops[n] = await seedDrop(seeding.store, keyId, n);
        }
      }),
    );
  } finally {
    seeding.destroy();
  }
  const cr = await fetch(`${api.base}/v1/collections`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 'bench collection', drops: drops.slice(0, dropsCount) }) });
  const created = (await cr.json()) as { id: string; ownerToken: string };
  if (cr.status !== 201) throw new Error(`POST /v1/collections answered ${cr.status}: ${JSON.stringify(created).slice(0, 300)}`);
  // One GET at a time first: the view's own latency, without queueing.
  const aloneMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const view = await fetch(`${api.base}/v1/collections/${created.id}`, { signal: AbortSignal.timeout(30_000) });
    const v = (await view.json()) as { drops: unknown[] };
    aloneMs.push(performance.now() - t0);
    if (view.status !== 200 || v.drops.length !== dropsCount) throw new Error(`GET /v1/collections/:id answered ${view.status} with ${v.drops?.length} drops`);
  }
  const getAloneMs = percentile(aloneMs, 50);
  ctx.log(`  collections GET (${dropsCount} drops), one at a time: p50 ${getAloneMs.toFixed(0)} ms`);
  // 4 connections: one view reads every drop's manifest (100 GETs, 16 at once), so 10 views at
  // once queue for seconds at the emulator.
  const connections = 4;
  const spec: LoadSpec = { url: `${api.base}/v1/collections/${created.id}` };
  await load(spec, { connections, duration: warmup });
  const get: LoadResult[] = [];
  for (let rep = 1; rep <= ctx.reps; rep++) {
    const r = await load(spec, { connections, duration });
    get.push(r);
    ctx.log(`  collections GET (${dropsCount} drops) rep ${rep}: ${r.reqPerSec.toFixed(1)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
  }
  const adds: CollectionsResult['adds'] = [];
  for (let rep = 1; rep <= ctx.reps; rep++) {
    const er = await fetch(`${api.base}/v1/collections`, { method: 'POST', headers: auth, body: JSON.stringify({ title: `bench adds ${rep}` }) });
    const empty = (await er.json()) as { id: string; ownerToken: string };
    if (er.status !== 201) throw new Error(`POST /v1/collections (empty) answered ${er.status}`);
    const mine = drops.slice(dropsCount + (rep - 1) * addsCount, dropsCount + rep * addsCount);
    // Each add as a client makes it: a 503 (STORAGE_BUSY: contention outlasted the api's
    // retries) is sent again after its Retry-After, until 200 or 60 s.
    const t0 = performance.now();
    const outcomes = await Promise.all(
      mine.map(async (d) => {
        const until = Date.now() + 60_000;
        const statuses: number[] = [];
        for (;;) {
          const r = await fetch(`${api.base}/v1/collections/${empty.id}/drops`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-owner-token': empty.ownerToken },
            body: JSON.stringify({ id: d.id, ownerToken: d.ownerToken }),
            signal: AbortSignal.timeout(30_000),
          });
          await r.arrayBuffer();
          statuses.push(r.status);
          if (r.status !== 503 || Date.now() > until) return statuses;
          await new Promise((res) => setTimeout(res, 1000 * Number(r.headers.get('retry-after') ?? 1)));
        }
      }),
    );
    const ms = performance.now() - t0;
    const after = (await (await fetch(`${api.base}/v1/collections/${empty.id}`)).json()) as { drops: { id: string }[] };
    const landed = mine.filter((d) => after.drops.some((x) => x.id === d.id)).length;
    const count = (xs: number[]) => {
      const c: Record<string, number> = {};
      for (const x of xs) c[x] = (c[x] ?? 0) + 1;
      return c;
    };
    const add = {
      attempted: mine.length,
      firstStatuses: count(outcomes.map((o) => o[0]!)),
      finalStatuses: count(outcomes.map((o) => o.at(-1)!)),
      requests: outcomes.reduce((a, o) => a + o.length, 0),
      landed,
      ms,
    };
    adds.push(add);
    ctx.log(`  collections ${mine.length} concurrent adds rep ${rep}: ${landed}/${mine.length} landed in ${ms.toFixed(0)} ms (${add.requests} requests; first answers ${JSON.stringify(add.firstStatuses)}, final ${JSON.stringify(add.finalStatuses)})`);
  }
  return { drops: dropsCount, getAloneMs, get, connections, duration, adds };
}
