/**
 * Benchmark 7 — listing one key's drops (`GET /v1/drops`, newest first, the default page of
 * 50) for a key with 10,000 drops, first in a bucket holding only that key's drops, then
 * after the drops of nine other keys have been added (10× as many asked for; as many as the
 * seeding time box allows, see below). The listing reads only its key's index prefix
 * (src/core/key-index.ts), so the budget is that other keys' drops cost it nothing:
 * p50 with others ÷ p50 alone ≤ 1.2×.
 *
 * Drops are seeded from the bench process through the ports, exactly what a real drop leaves
 * in S3 for the listing: the key-index entry (indexForKey), then the manifest
 * (ManifestRepo.create), each manifest a ready drop of its key. Not seeded: the bytes,
 * thumbnails and expiry markers, which the listing never reads.
 *
 * Seeding is one-way (un-seeding is as slow as seeding), so the two stages cannot alternate.
 * Within each stage the loads alternate (page 1 / page 2 by cursor, order flipped each
 * repetition), and each repetition also times the emulator's two calls on their own from
 * the bench — ListObjectsV2 of the key's prefix and GetObject of one manifest — so a change
 * of the machine's speed between the stages (the GET is flat in the bucket's size) can be
 * told apart from a change of the listing's cost.
 */
import { createHash } from 'node:crypto';
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
import { emulatorPids, seedingStore } from '../lib/emulator.js';

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
  /** Objects in the bench bucket during each stage. */
  objects: Record<ListingStage, number>;
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
 * Seeds up to `count` drops (index entry, then manifest) of the given keys, `concurrency` at
 * once, until done or `untilMs` (wall clock). Returns the keys written.
 */
async function seed(
  store: ObjectStore,
  keyIds: string[],
  count: number,
  concurrency: number,
  untilMs: number,
  written: string[],
): Promise<number> {
  const repo = createManifestRepo(store);
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
      await indexForKey(store, m);
      written.push(keyIndexEntry(m)!);
      await repo.create(m);
      written.push(dropKeys(m.id).manifest);
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
  const duration = ctx.quick ? 2 : 5;
  const warmup = ctx.quick ? 1 : 2;
  const listerDrops = ctx.quick ? 1_000 : 10_000;
  const otherKeys = 9;
  const othersWanted = 9 * listerDrops;
  // The others' seeding is time-boxed (see docs/benchmarks.md): 180,000 PUTs do not fit.
  const othersBoxMs = ctx.quick ? 15_000 : 90_000;
  const seedConcurrency = 32;
  const pageSize = 50;

  const keys = [BENCH_API_KEY, LISTER_KEY, ...Array.from({ length: otherKeys }, (_, i) => otherKey(i))];
  const config = loadConfig({ ...ctx.env, DROPSHIP_API_KEYS: keys.join(',') });
  const idOf = (key: string) => config.keys.find((k) => k.sha256 === sha256(key))!.id;
  const listerId = idOf(LISTER_KEY);
  const otherIds = keys.slice(2).map(idOf);

  const seeding = seedingStore(ctx);
  const seedStore = seeding.store;
  const written: string[] = [];
  const runs: ListingRun[] = [];
  const probes: ListingProbe[] = [];
  const seeds: ListingSeed[] = [];
  const objects = { alone: 0, others: 0 };
  const cleanup = { deletedObjects: 0, seconds: 0 };
  let api: ApiProcess | undefined;
  const emuPids = emulatorPids(ctx.endpoint);
  try {
    // What the bucket held before (other suites' leftovers), counted once while it is small.
    const before = (await ctx.store.listKeys('')).length;
    api = await startApi(ctx, { DROPSHIP_API_KEYS: keys.join(',') });
    const base0 = written.length;
    let t = performance.now();
    const listerSeeded = await seed(seedStore, [listerId], listerDrops, seedConcurrency, Date.now() + 10 * 60_000, written);
    let s = (performance.now() - t) / 1000;
    seeds.push({ what: 'the lister key', drops: listerSeeded, objects: written.length - base0, seconds: s, putsPerSecond: (written.length - base0) / s, wanted: listerDrops });
    ctx.log(`  listing: seeded ${listerSeeded} drops of the lister key (${written.length - base0} objects) in ${s.toFixed(1)} s = ${((written.length - base0) / s).toFixed(0)} PUT/s`);

    const headers = { authorization: `Bearer ${LISTER_KEY}` };
    const first = await fetch(`${api.base}/v1/drops`, { headers });
    const page1 = (await first.json()) as { drops: { id: string }[]; nextCursor: string | null };
    if (first.status !== 200 || page1.drops.length !== pageSize || !page1.nextCursor) {
      throw new Error(`GET /v1/drops answered ${first.status} with ${page1.drops?.length} drops (expected ${pageSize} and a cursor)`);
    }
    const second = await fetch(`${api.base}/v1/drops?cursor=${encodeURIComponent(page1.nextCursor)}`, { headers });
    const page2 = (await second.json()) as { drops: { id: string }[]; nextCursor: string | null };
    if (second.status !== 200 || page2.drops.length !== pageSize || page2.drops.some((d) => page1.drops.some((e) => e.id === d.id))) {
      throw new Error(`the second page answered ${second.status} with ${page2.drops?.length} drops, or repeated the first`);
    }
    const specs: Record<ListingPage, LoadSpec> = {
      page1: { url: `${api.base}/v1/drops`, headers },
      page2: { url: `${api.base}/v1/drops?cursor=${encodeURIComponent(page1.nextCursor)}`, headers },
    };
    const prefix = keyIndexPrefix(listerId);
    const probeManifest = dropKeys(page1.drops[0]!.id).manifest;
    const samples = ctx.quick ? 20 : 50;

    const stage = async (name: ListingStage) => {
      objects[name] = before + written.length;
      await load(specs.page1, { connections, duration: warmup });
      for (let rep = 1; rep <= ctx.reps; rep++) {
        const order: ListingPage[] = rep % 2 ? ['page1', 'page2'] : ['page2', 'page1'];
        for (const page of order) {
          const a0 = sampleProc(api!.pid).cpuSeconds;
          const e0 = cpuOf(emuPids);
          const result = await load(specs[page], { connections, duration });
          const apiCpuSeconds = sampleProc(api!.pid).cpuSeconds - a0;
          const emulatorCpuSeconds = cpuOf(emuPids) - e0;
          if (result.non2xx || result.errors) throw new Error(`listing ${page} (${name}): ${result.non2xx} non-2xx, ${result.errors} errors`);
          runs.push({ stage: name, page, rep, result, apiCpuSeconds, emulatorCpuSeconds });
          ctx.log(`  listing ${name.padEnd(6)} ${page} rep ${rep}: ${result.reqPerSec.toFixed(1)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, api CPU ${((1000 * apiCpuSeconds) / Math.max(1, result.ok)).toFixed(1)} ms/req`);
        }
        const listP50 = await timeSequential(samples, () => ctx.store.listKeys(prefix, { limit: pageSize + 1 }));
        const getP50 = await timeSequential(samples, () => ctx.store.getText(probeManifest));
        probes.push({ stage: name, rep, listP50, getP50, samples });
        ctx.log(`  listing ${name.padEnd(6)} emulator alone rep ${rep}: ListObjectsV2 p50 ${listP50.toFixed(1)} ms, GetObject p50 ${getP50.toFixed(1)} ms`);
      }
    };

    await stage('alone');
    const base1 = written.length;
    t = performance.now();
    const othersSeeded = await seed(seedStore, otherIds, othersWanted, seedConcurrency, Date.now() + othersBoxMs, written);
    s = (performance.now() - t) / 1000;
    seeds.push({
      what: `${otherKeys} other keys`,
      drops: othersSeeded,
      objects: written.length - base1,
      seconds: s,
      putsPerSecond: (written.length - base1) / s,
      wanted: othersWanted,
      ...(othersSeeded < othersWanted ? { cut: `the ${othersBoxMs / 1000} s time box` } : {}),
    });
    ctx.log(`  listing: seeded ${othersSeeded}/${othersWanted} drops of ${otherKeys} other keys (${written.length - base1} objects) in ${s.toFixed(1)} s = ${((written.length - base1) / s).toFixed(0)} PUT/s`);
    await stage('others');
    return { connections, duration, pageSize, listerDrops: listerSeeded, otherKeys, seedConcurrency, seeds, objects, runs, probes, cleanup };
  } finally {
    await api?.stop();
    const t = performance.now();
    // Everything seeded, by key (1,000 per DeleteObjects), then whatever is left under the
    // seeded keys' index prefixes; bounded to 3 minutes.
    const until = Date.now() + 180_000;
    for (let i = 0; i < written.length && Date.now() < until; i += 1000) {
      await seedStore.deleteKeys(written.slice(i, i + 1000)).catch(() => {});
      cleanup.deletedObjects += Math.min(1000, written.length - i);
    }
    for (const id of [listerId, ...otherIds]) {
      const left = await ctx.store.listKeys(keyIndexPrefix(id), { limit: 1000 }).catch(() => []);
      if (left.length) await ctx.store.deleteKeys(left).catch(() => {});
    }
    cleanup.seconds = (performance.now() - t) / 1000;
    seeding.destroy();
  }
}
