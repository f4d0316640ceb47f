/**
 * Benchmark 8 — the retention sweep (src/worker/sweeper.ts) with a small and a large bucket:
 * CPU seconds of the worker process and S3 calls per expired drop, with 1,000 and then
 * 10,000 live drops (not expired) in the bucket and the same number E of expired drops each
 * time. The sweep lists only the expiry index's due buckets, so neither should grow with the
 * live drops.
 *
 * Drops are seeded straight through the ports (lib/seed.ts: marker, key-index entry, manifest,
 * bytes — what a ready drop has), 48 writes in flight. One worker process per bucket size
 * (`src/worker/main.ts` as it runs in production, its queue drained, DROPSHIP_SWEEP_INTERVAL=1,
 * AWS_ENDPOINT_URL pointed at the counting proxy). Per measurement: E drops are written live
 * and without their markers (invisible to the sweep), the worker consumes their upload
 * notifications, then their manifests are rewritten with a lifetime over five minutes ago;
 * the worker's idle rate is measured; then, right after one of its idle sweeps ends, the
 * worker is paused (SIGSTOP), the E markers written, counters zeroed and the worker
 * resumed, so that one sweep finds all E. The window ends when that sweep has listed the
 * collection index (its last step). The live drops are seeded incrementally (the 1k phase
 * first, then 9k more), so the two sizes run one after the other, not interleaved.
 */
import { kill } from 'node:process';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { sweepListEnd, EXPIRY_INDEX_PREFIX } from '../../../src/core/retention.js';
import { COLLECTION_EXPIRY_INDEX_PREFIX } from '../../../src/core/collections.js';
import { keyIndexPrefix } from '../../../src/core/key-index.js';
import { DROPS_PREFIX } from '../../../src/core/layout.js';
import type { BenchContext } from '../lib/env.js';
import { sampleProc, type ProcSample } from '../lib/proc.js';
import { spread } from '../lib/stats.js';
import { drainQueue, startWorkers, type Workers } from '../lib/workers.js';
import { startS3Counter, verifyCounter, type CountedRequest, type S3Counter } from '../lib/s3-counter.js';
import { expiredVersion, inParallel, readyDrop, rewriteManifests, writeDrops, writeMarkers, type SeededDrop } from '../lib/seed.js';

export interface SweepRun {
  rep: number;
  live: number;
  expired: number;
  /** Worker CPU seconds from resume to the sweep's end, whole and net of the idle rate. */
  cpuSeconds: number;
  netCpuSeconds: number;
  /** Resume → end of the sweep, s; the sweep itself (its first listing → its last), s. */
  windowSeconds: number;
  sweepSeconds: number;
  /** The worker's idle CPU (cores) and S3 calls/s, measured just before. */
  idleCpuRate: number;
  idleS3PerSecond: number;
  /** S3 calls in the window, and by operation. */
  s3Calls: number;
  ops: Record<string, number>;
  /** Median latency of each operation through the proxy (the emulator's answer time), ms. */
  latencyMs: Record<string, number>;
  /** Expired drops left behind after the sweep (must be 0). */
  leftBehind: number;
}

export interface SweepResults {
  sizes: number[];
  expired: number;
  seedConcurrency: number;
  /** Seeding of the live drops: drops and seconds per phase. */
  seeding: { live: number; added: number; seconds: number }[];
  /** Live drops checked intact after each phase (all four objects present). */
  liveIntact: { live: number; intact: number }[];
  runs: SweepRun[];
}

const LIVE_KEY = 'bench-sweep-live';
const EXPIRED_KEY = 'bench-sweep-expired';
const CONCURRENCY = 48;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `pred` holds for a request the counter has finished, or rejects after ms. */
function nextDone(counter: S3Counter, pred: (r: CountedRequest) => boolean, ms: number, what: string): Promise<CountedRequest> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      counter.onDone(undefined);
      reject(new Error(`sweep: ${what} within ${ms} ms`));
    }, ms);
    counter.onDone((r) => {
      if (pred(r)) {
        clearTimeout(t);
        counter.onDone(undefined);
        resolve(r);
      }
    });
  });
}

const isList = (prefix: string) => (r: CountedRequest) => r.op === 'ListObjectsV2' && r.prefix === prefix;

/** Messages on the bench queue, waiting or being handled. */
async function queueLength(ctx: BenchContext): Promise<number> {
  const r = await ctx.aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: ctx.queueUrl!, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  const a = r.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function queueIdle(ctx: BenchContext, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await queueLength(ctx)) === 0) return;
    await sleep(200);
  }
  throw new Error(`sweep: the worker did not empty its queue within ${ms} ms`);
}

export async function runSweep(ctx: BenchContext): Promise<SweepResults> {
  const sizes = ctx.quick ? [100, 1000] : [1000, 10_000];
  const E = ctx.quick ? 30 : 200;
  const idleMs = ctx.quick ? 2000 : 3000;
  const runs: SweepRun[] = [];
  const seeding: SweepResults['seeding'] = [];
  const liveIntact: SweepResults['liveIntact'] = [];
  const live: SeededDrop[] = [];
  const expiredAll: SeededDrop[] = [];
  let counter: S3Counter | undefined;
  let workers: Workers | undefined;

  /** One round: E expired drops, deleted by one sweep of the running worker. */
  async function measure(rep: number, record: boolean): Promise<void> {
    const pid = workers!.children[0]!.pid;
    const now = Date.now();
    // Made ten minutes ago, live when their bytes came (the worker handles those
    // notifications as for any ready drop: a HEAD, nothing to do), then their lifetime is
    // over: expired five minutes ago, markers in buckets long due — written only below.
    const fresh = Array.from({ length: E }, () => readyDrop(EXPIRED_KEY, new Date(now - 10 * 60_000), 86_400_000));
    expiredAll.push(...fresh);
    await writeDrops(ctx.store, fresh, { concurrency: CONCURRENCY, withMarker: false });
    const expired = fresh.map((d) => expiredVersion(d, new Date(now - 5 * 60_000)));
    expiredAll.push(...expired);
    await queueIdle(ctx, 30_000);
    await rewriteManifests(ctx.store, expired, CONCURRENCY);
    await nextDone(counter!, isList(COLLECTION_EXPIRY_INDEX_PREFIX), 10_000, 'no idle sweep');

    const i0 = sampleProc(pid);
    counter!.reset();
    await sleep(idleMs);
    const i1 = sampleProc(pid);
    const idleSeconds = (i1.at - i0.at) / 1000;
    const idleCpuRate = (i1.cpuSeconds - i0.cpuSeconds) / idleSeconds;
    const idleS3PerSecond = counter!.s3Total() / idleSeconds;

    // Pause the worker between two sweeps, write the markers, resume: one sweep sees them all.
    await nextDone(counter!, isList(COLLECTION_EXPIRY_INDEX_PREFIX), 10_000, 'no idle sweep');
    kill(pid, 'SIGSTOP');
    let c0: ProcSample;
    try {
      const until = Date.now() + 10_000;
      while (counter!.inFlightS3() > 0 && Date.now() < until) await sleep(20);
      await sleep(100);
      await writeMarkers(ctx.store, expired, CONCURRENCY);
      counter!.reset();
    } finally {
      // Never leave the worker stopped, whatever failed.
      c0 = sampleProc(pid);
      kill(pid, 'SIGCONT');
    }
    let sawSweep = false;
    const end = await nextDone(
      counter!,
      (r) => {
        if (isList(EXPIRY_INDEX_PREFIX)(r)) sawSweep = true;
        return sawSweep && isList(COLLECTION_EXPIRY_INDEX_PREFIX)(r);
      },
      120_000,
      `the sweep of ${E} expired drops did not finish`,
    );
    const c1 = sampleProc(pid);
    const reqs = counter!.requests().filter((r) => !r.op.startsWith('sqs:') && r.at <= end.at);
    const ops: Record<string, number> = {};
    for (const r of reqs) ops[r.op] = (ops[r.op] ?? 0) + 1;
    const first = reqs.find(isList(EXPIRY_INDEX_PREFIX))!;
    const latencyMs: Record<string, number> = {};
    for (const op of Object.keys(ops)) latencyMs[op] = spread(reqs.filter((r) => r.op === op && r.doneAt !== undefined).map((r) => r.doneAt! - r.at)).median;
    const windowSeconds = (c1.at - c0.at) / 1000;
    const cpuSeconds = c1.cpuSeconds - c0.cpuSeconds;

    // Every expired drop gone: no marker due, no key-index entry, nothing under its prefix.
    const due = new Set(await ctx.store.listKeys(EXPIRY_INDEX_PREFIX, { before: sweepListEnd(new Date()) }));
    const entries = await ctx.store.listKeys(keyIndexPrefix(EXPIRED_KEY));
    let leftBehind = 0;
    await inParallel(expired, 16, async (d) => {
      const under = await ctx.store.listKeys(`${DROPS_PREFIX}${d.id}/`);
      if (under.length || due.has(d.marker)) leftBehind++;
    });
    leftBehind = Math.max(leftBehind, entries.length);
    const run: SweepRun = {
      rep,
      live: live.length,
      expired: E,
      cpuSeconds,
      netCpuSeconds: cpuSeconds - idleCpuRate * windowSeconds,
      windowSeconds,
      sweepSeconds: ((end.doneAt ?? end.at) - first.at) / 1000,
      idleCpuRate,
      idleS3PerSecond,
      s3Calls: reqs.length,
      ops,
      latencyMs,
      leftBehind,
    };
    ctx.log(
      `  sweep ${record ? `rep ${rep}` : 'warm-up'}, ${live.length} live: ${E} expired in ${run.sweepSeconds.toFixed(2)} s; worker CPU ${(cpuSeconds * 1000).toFixed(0)} ms ` +
        `(net ${(run.netCpuSeconds * 1000).toFixed(0)} ms; idle ${(idleCpuRate * 1000).toFixed(1)} ms/s), ${(1000 * cpuSeconds / E).toFixed(2)} ms and ${(reqs.length / E).toFixed(2)} S3 calls per expired drop ` +
        `${JSON.stringify(ops)}, median latency ms ${JSON.stringify(Object.fromEntries(Object.entries(latencyMs).map(([k, v]) => [k, Math.round(v)])))}; left behind ${leftBehind}`,
    );
    if (leftBehind) throw new Error(`sweep: ${leftBehind} of ${E} expired drops were not deleted`);
    if (record) runs.push(run);
  }

  async function checkLive(): Promise<void> {
    const t = performance.now();
    const present = new Set([
      ...(await ctx.store.listKeys(DROPS_PREFIX)),
      ...(await ctx.store.listKeys(keyIndexPrefix(LIVE_KEY))),
      ...(await ctx.store.listKeys(EXPIRY_INDEX_PREFIX)),
    ]);
    const intact = live.filter((d) => d.keys.every((k) => present.has(k))).length;
    liveIntact.push({ live: live.length, intact });
    ctx.log(`  sweep: ${intact}/${live.length} live drops intact (checked in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    if (intact !== live.length) throw new Error(`sweep: ${live.length - intact} of ${live.length} live drops lost objects`);
  }

  try {
    counter = await startS3Counter(ctx.endpoint);
    await verifyCounter(ctx, counter);
    for (const size of sizes) {
      // The worker is not running while live drops are seeded: their notifications are drained.
      const add = Array.from({ length: size - live.length }, () => readyDrop(LIVE_KEY, new Date(), 86_400_000));
      const t = performance.now();
      await writeDrops(ctx.store, add, { concurrency: CONCURRENCY, withMarker: true });
      live.push(...add);
      const seconds = (performance.now() - t) / 1000;
      seeding.push({ live: live.length, added: add.length, seconds });
      ctx.log(`  sweep: seeded ${add.length} live drops in ${seconds.toFixed(1)} s (${(add.length / seconds).toFixed(0)} drops/s, 4 objects each); ${live.length} live`);
      // The emulator's notifications trail the writes: drain once they have stopped coming.
      let queued = -1;
      for (let i = 0; i < 40; i++) {
        const n = await queueLength(ctx);
        if (n === queued) break;
        queued = n;
        await sleep(500);
      }
      await drainQueue(ctx);
      workers = await startWorkers(ctx, 1, { AWS_ENDPOINT_URL: counter.url, DROPSHIP_SWEEP_INTERVAL: '1' });
      // A warm-up round (not recorded) so that the first measured one does not pay for the JIT.
      if (!ctx.quick) await measure(0, false);
      for (let rep = 1; rep <= ctx.reps; rep++) await measure(rep, true);
      await workers.stop();
      workers = undefined;
      await checkLive();
    }
    return { sizes, expired: E, seedConcurrency: CONCURRENCY, seeding, liveIntact, runs };
  } finally {
    await workers?.stop();
    await counter?.close();
    const keys = [...live, ...expiredAll].flatMap((d) => d.keys);
    for (let i = 0; i < keys.length; i += 1000) await ctx.store.deleteKeys(keys.slice(i, i + 1000)).catch(() => {});
    await drainQueue(ctx).catch(() => 0);
  }
}
