/**
 * Benchmark 7 — listing one key's drops (`GET /v1/drops`, newest first, the default page of
 * 50) for a key with 10,000 drops, in a bucket holding only that key's drops and in one that
 * also holds the drops of nine other keys (10× as many asked for; as many as the seeding
 * time box allows, see below). The listing reads only its key's index prefix
 * (src/core/key-index.ts), so the budget is that other keys' drops cost it nothing:
 * p50 in the crowded bucket ÷ p50 alone ≤ 1.2×.
 *
 * Side by side: two buckets and two api processes, one per bucket, the lister's drops the
 * same in both (same ids, same manifests), so the two are loaded in turn, interleaved, order
 * alternating per repetition — no before/after, which a one-way seeding would force on one
 * bucket. Each repetition also times the emulator's two calls on their own from the bench:
 * ListObjectsV2 of the key's prefix and GetObject of one manifest, in each bucket.
 *
 * Drops are seeded from the bench process through the ports, exactly what a real drop
 * leaves in S3 for the listing: the key-index entry (indexForKey), then the manifest
 * (ManifestRepo.create) of a ready drop of its key. Not seeded: the bytes, thumbnails and
 * expiry markers, which the listing never reads.
 */
import { createHash } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../../src/config.js';
import { dropKeys } from '../../../src/core/layout.js';
import { hashOwnerToken, newDropId, newOwnerToken } from '../../../src/core/ids.js';
import { keyIndexPrefix } from '../../../src/core/key-index.js';
import { apply, newManifest, type Manifest } from '../../../src/core/manifest.js';
import { createManifestRepo } from '../../../src/ports/manifests.js';
import { indexForKey, keyIndexEntry } from '../../../src/ports/key-index.js';
import type { ObjectStore } from '../../../src/ports/object-store.js';
import { BENCH_API_KEY, type BenchContext } from '../lib/env.js';
import { startApi, type ApiProcess } from '../lib/api.js';
import { cpuOf, sampleProc } from '../lib/proc.js';
import { load, type LoadResult, type LoadSpec } from '../lib/load.js';
import { percentile } from '../lib/stats.js';
import { seedingStore } from '../lib/emulator.js';

/** `alone`: the bucket holding only the lister's drops; `others`: the same drops among other keys'. */
export type ListingStage = 'alone' | 'others';
export type ListingPage = 'page1' | 'page2';

export interface ListingRun {
  stage: ListingStage;
  page: ListingPage;
  rep: number;
  result: LoadResult;
  apiCpuSeconds: number;
  emulatorCpuSeconds: number;
}

/** The emulator's calls timed on their own from the bench, sequentially (ms). */
export interface ListingProbe {
  stage: ListingStage;
  rep: number;
  listP50: number;
  getP50: number;
  samples: number;
}

export interface ListingSeed {
  what: string;
  drops: number;
  objects: number;
  seconds: number;
  putsPerSecond: number;
  /** Why seeding stopped before `wanted` (time box), if it did. */
  cut?: string;
  wanted: number;
}

export interface ListingResults {
  connections: number;
  duration: number;
  pageSize: number;
  listerDrops: number;
  otherKeys: number;
  seedConcurrency: number;
  seeds: ListingSeed[];
  /** Objects in each bucket while it was listed. */
  objects: Record<ListingStage, number>;
  buckets: Record<ListingStage, string>;
  runs: ListingRun[];
  probes: ListingProbe[];
  cleanup: { deletedObjects: number; seconds: number };
}

const LISTER_KEY = 'bench-lister-key-0123456789abcdef';
const otherKey = (i: number) => `bench-other-key-${i}-0123456789abcdef`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A ready drop of `keyId` created at `at`, as the api and the worker leave its manifest. */
function readyManifest(keyId: string, at: Date, n: number, ownerTokenHash: string): Manifest {
  const size = 1000 + (n % 5000) * 1024;
  let m = newManifest({
    id: newDropId(),
    name: `report-${n}.pdf`,
    size,
    type: 'application/pdf',
    ownerTokenHash,
    upload: { mode: 'single', partSize: size, partCount: 1 },
    source: 'ticket',
    now: at,
    expiresAt: new Date(Date.now() + 7 * 86_400_000),
    uploadExpiresAt: new Date(at.getTime() + 86_400_000),
    keyId,
    metadata: { invoice: `INV-${n}` },
  });
  for (const e of [
    { type: 'complete' as const, at: new Date(at.getTime() + 2000) },
    { type: 'processed' as const, at: new Date(at.getTime() + 2500), sniffedType: 'application/pdf', thumbnail: 'none' as const, thumbnails: [] },
  ]) {
    const r = apply(m, e);
    if (r.ok) m = r.manifest;
  }
  return m;
}

/**
 * Seeds up to `count` drops (index entry, then manifest) of the given keys into every one of
 * `stores` (the same drop in each), `concurrency` at once, until done or `untilMs` (wall
 * clock). Every key written goes to `written` (per store).
 */
async function seed(
  stores: ObjectStore[],
  keyIds: string[],
  count: number,
  concurrency: number,
  untilMs: number,
  written: string[][],
): Promise<number> {
  const repos = stores.map((st) => createManifestRepo(st));
  const tokenHash = hashOwnerToken(newOwnerToken());
  // Creation times spread over the last 10,000 minutes (distinct ms), other keys interleaved.
  const start = Date.now() - 10_000 * 60_000;
  const step = Math.max(1, Math.floor((10_000 * 60_000 - 60_000) / Math.max(1, count)));
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < count && Date.now() < untilMs) {
      const n = next++;
      const m = readyManifest(keyIds[n % keyIds.length]!, new Date(start + n * step + Math.floor(Math.random() * step)), n, tokenHash);
      for (let i = 0; i < stores.length; i++) {
        await indexForKey(stores[i]!, m);
        written[i]!.push(keyIndexEntry(m)!);
        await repos[i]!.create(m);
        written[i]!.push(dropKeys(m.id).manifest);
      }
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return done;
}

async function timeSequential(n: number, fn: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return percentile(ms, 50);
}

export async function runListing(ctx: BenchContext): Promise<ListingResults> {
  // One lister pages one page after the other: one connection is its latency, without
  // queueing behind itself.
  const connections = 1;
  const duration = ctx.quick ? 2 : 4;
  const warmup = ctx.quick ? 1 : 2;
  const listerDrops = ctx.quick ? 1_000 : 10_000;
  const otherKeys = 9;
  const othersWanted = 9 * listerDrops;
  // The others' seeding is time-boxed (docs/benchmarks.md): 180,000 PUTs do not fit.
  const othersBoxMs = ctx.quick ? 15_000 : 75_000;
  const seedConcurrency = 32;
  const pageSize = 50;
  const crowdedBucket = `${ctx.config.DROPSHIP_BUCKET}-listing`;

  const keys = [BENCH_API_KEY, LISTER_KEY, ...Array.from({ length: otherKeys }, (_, i) => otherKey(i))];
  const config = loadConfig({ ...ctx.env, DROPSHIP_API_KEYS: keys.join(',') });
  const idOf = (key: string) => config.keys.find((k) => k.sha256 === sha256(key))!.id;
  const listerId = idOf(LISTER_KEY);
  const otherIds = keys.slice(2).map(idOf);

  const buckets: Record<ListingStage, string> = { alone: ctx.config.DROPSHIP_BUCKET, others: crowdedBucket };
  const seeding = { alone: seedingStore(ctx), others: seedingStore(ctx, crowdedBucket) };
  const written: Record<ListingStage, string[]> = { alone: [], others: [] };
  const runs: ListingRun[] = [];
  const probes: ListingProbe[] = [];
  const seeds: ListingSeed[] = [];
  const objects = { alone: 0, others: 0 };
  const cleanup = { deletedObjects: 0, seconds: 0 };
  const apis: Partial<Record<ListingStage, ApiProcess>> = {};
  const emuPids = ctx.emulatorPids;
  let created = false;
  try {
    await ctx.aws.s3.send(new CreateBucketCommand({ Bucket: crowdedBucket })).catch((e: { name?: string }) => {
      if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
    });
    created = true;
    // What the buckets held before (other suites' leftovers), counted once while they are small.
    const before = { alone: (await seeding.alone.store.listKeys('')).length, others: (await seeding.others.store.listKeys('')).length };
    for (const b of ['alone', 'others'] as ListingStage[]) apis[b] = await startApi(ctx, { DROPSHIP_API_KEYS: keys.join(','), DROPSHIP_BUCKET: buckets[b] });

    let t = performance.now();
    const listerSeeded = await seed([seeding.alone.store, seeding.others.store], [listerId], listerDrops, seedConcurrency, Date.now() + 10 * 60_000, [written.alone, written.others]);
    let s = (performance.now() - t) / 1000;
    const listerObjects = written.alone.length + written.others.length;
    seeds.push({ what: 'the lister key, into both buckets', drops: listerSeeded, objects: listerObjects, seconds: s, putsPerSecond: listerObjects / s, wanted: listerDrops });
    ctx.log(`  listing: seeded ${listerSeeded} drops of the lister key into both buckets (${listerObjects} objects) in ${s.toFixed(1)} s = ${(listerObjects / s).toFixed(0)} PUT/s`);
    t = performance.now();
    const base = written.others.length;
    const othersSeeded = await seed([seeding.others.store], otherIds, othersWanted, seedConcurrency, Date.now() + othersBoxMs, [written.others]);
    s = (performance.now() - t) / 1000;
    seeds.push({
      what: `${otherKeys} other keys, into the crowded bucket`,
      drops: othersSeeded,
      objects: written.others.length - base,
      seconds: s,
      putsPerSecond: (written.others.length - base) / s,
      wanted: othersWanted,
      ...(othersSeeded < othersWanted ? { cut: `the ${othersBoxMs / 1000} s time box` } : {}),
    });
    ctx.log(`  listing: seeded ${othersSeeded}/${othersWanted} drops of ${otherKeys} other keys (${written.others.length - base} objects) in ${s.toFixed(1)} s = ${((written.others.length - base) / s).toFixed(0)} PUT/s`);
    objects.alone = before.alone + written.alone.length;
    objects.others = before.others + written.others.length;

    const headers = { authorization: `Bearer ${LISTER_KEY}` };
    const specs = {} as Record<ListingStage, Record<ListingPage, LoadSpec>>;
    let firstId = '';
    for (const b of ['alone', 'others'] as ListingStage[]) {
      const api = apis[b]!;
      const first = await fetch(`${api.base}/v1/drops`, { headers });
      const page1 = (await first.json()) as { drops: { id: string }[]; nextCursor: string | null };
      if (first.status !== 200 || page1.drops.length !== pageSize || !page1.nextCursor) {
        throw new Error(`GET /v1/drops (${b}) answered ${first.status} with ${page1.drops?.length} drops (expected ${pageSize} and a cursor)`);
      }
      const second = await fetch(`${api.base}/v1/drops?cursor=${encodeURIComponent(page1.nextCursor)}`, { headers });
      const page2 = (await second.json()) as { drops: { id: string }[]; nextCursor: string | null };
      if (second.status !== 200 || page2.drops.length !== pageSize || page2.drops.some((d) => page1.drops.some((e) => e.id === d.id))) {
        throw new Error(`the second page (${b}) answered ${second.status} with ${page2.drops?.length} drops, or repeated the first`);
      }
      // The lister's drops are the same in both buckets: so are its pages.
      if (firstId && firstId !== page1.drops[0]!.id) throw new Error('the two buckets list different drops for the lister');
      firstId = page1.drops[0]!.id;
      specs[b] = {
        page1: { url: `${api.base}/v1/drops`, headers },
        page2: { url: `${api.base}/v1/drops?cursor=${encodeURIComponent(page1.nextCursor)}`, headers },
      };
    }
    const prefix = keyIndexPrefix(listerId);
    const probeManifest = dropKeys(firstId).manifest;
    const samples = ctx.quick ? 20 : 50;

    for (const b of ['alone', 'others'] as ListingStage[]) await load(specs[b].page1, { connections, duration: warmup });
    for (let rep = 1; rep <= ctx.reps; rep++) {
      const order: ListingStage[] = rep % 2 ? ['alone', 'others'] : ['others', 'alone'];
      for (const b of order) {
        const api = apis[b]!;
        const pages: ListingPage[] = rep % 2 ? ['page1', 'page2'] : ['page2', 'page1'];
        for (const page of pages) {
          const a0 = sampleProc(api.pid).cpuSeconds;
          const e0 = cpuOf(emuPids);
          const result = await load(specs[b][page], { connections, duration });
          const apiCpuSeconds = sampleProc(api.pid).cpuSeconds - a0;
          const emulatorCpuSeconds = cpuOf(emuPids) - e0;
          if (result.non2xx || result.errors) throw new Error(`listing ${page} (${b}): ${result.non2xx} non-2xx, ${result.errors} errors`);
          runs.push({ stage: b, page, rep, result, apiCpuSeconds, emulatorCpuSeconds });
          ctx.log(`  listing ${b.padEnd(6)} ${page} rep ${rep}: ${result.reqPerSec.toFixed(1)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, api CPU ${((1000 * apiCpuSeconds) / Math.max(1, result.ok)).toFixed(1)} ms/req`);
        }
        const store = seeding[b].store;
        const listP50 = await timeSequential(samples, () => store.listKeys(prefix, { limit: pageSize + 1 }));
        const getP50 = await timeSequential(samples, () => store.getText(probeManifest));
        probes.push({ stage: b, rep, listP50, getP50, samples });
        ctx.log(`  listing ${b.padEnd(6)} emulator alone rep ${rep}: ListObjectsV2 p50 ${listP50.toFixed(1)} ms, GetObject p50 ${getP50.toFixed(1)} ms`);
      }
    }
    return { connections, duration, pageSize, listerDrops: listerSeeded, otherKeys, seedConcurrency, seeds, objects, buckets, runs, probes, cleanup };
  } finally {
    for (const a of Object.values(apis)) await a?.stop();
    const t = performance.now();
    // Everything seeded, by key (1,000 per DeleteObjects), then whatever is left under the
    // seeded keys' index prefixes; the crowded bucket is removed. Bounded to 3 minutes.
    const until = Date.now() + 180_000;
    for (const b of ['alone', 'others'] as ListingStage[]) {
      const keysOf = written[b];
      for (let i = 0; i < keysOf.length && Date.now() < until; i += 1000) {
        await seeding[b].store.deleteKeys(keysOf.slice(i, i + 1000)).catch(() => {});
        cleanup.deletedObjects += Math.min(1000, keysOf.length - i);
      }
      for (const id of [listerId, ...otherIds]) {
        const left = await seeding[b].store.listKeys(keyIndexPrefix(id), { limit: 1000 }).catch(() => []);
        if (left.length) await seeding[b].store.deleteKeys(left).catch(() => {});
      }
    }
    if (created) {
      const left = await seeding.others.store.listKeys('', { limit: 1000 }).catch(() => []);
      if (left.length) await seeding.others.store.deleteKeys(left).catch(() => {});
      await ctx.aws.s3.send(new DeleteBucketCommand({ Bucket: crowdedBucket })).catch(() => {});
    }
    cleanup.seconds = (performance.now() - t) / 1000;
    seeding.alone.destroy();
    seeding.others.destroy();
  }
}
