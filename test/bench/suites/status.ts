/**
 * Benchmark 3 — status queries: GET /v1/drops/:id on ready drops (small PNGs the worker has
 * thumbnailed, so the answer carries thumbnails), autocannon over a rotating set of ids.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { dropKeys } from '../../../src/core/layout.js';
import { percentile } from '../lib/stats.js';
import { DropshipClient } from '../../../src/client/client.js';
import { createManifestRepo } from '../../../src/ports/manifests.js';
import { BENCH_API_KEY, deletePrefix, type BenchContext } from '../lib/env.js';
import { startApi, type ApiProcess } from '../lib/api.js';
import { sampleProc } from '../lib/proc.js';
import { load, type LoadResult } from '../lib/load.js';
import { drainQueue, startWorkers, type Workers } from '../lib/workers.js';

export interface StatusRun {
  rep: number;
  result: LoadResult;
  serverCpuSeconds: number;
}

/** The ceiling: the same manifests read with GetObject straight from the bench process. */
export interface RawGetRun {
  rep: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  errors: number;
}

export interface StatusResults {
  connections: number;
  duration: number;
  drops: number;
  /** Who made the drops ready: the worker, or the bench itself when the worker could not. */
  readyBy: string;
  runs: StatusRun[];
  /** Same number of requests in flight, same duration, interleaved with `runs`. */
  raw?: RawGetRun[];
}

/**
 * `connections` loops of GetObject + reading the body, for `seconds`: what a status GET costs
 * storage, without the api. The SDK client is the bench's own (same as the api's: AWS SDK v3).
 */
async function rawGets(ctx: BenchContext, keys: string[], connections: number, seconds: number, rep: number): Promise<RawGetRun> {
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const until = performance.now() + seconds * 1000;
  const lane = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      try {
        const r = await ctx.aws.s3.send(new GetObjectCommand({ Bucket: ctx.config.DROPSHIP_BUCKET, Key: keys[i++ % keys.length] }));
        await r.Body!.transformToString();
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, lane));
  return { rep, reqPerSec: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), ok: latencies.length, errors };
}

const blob = (data: Buffer, name: string, type: string) => ({
  name,
  size: data.length,
  type,
  slice: async (s: number, e: number) => new Uint8Array(data.subarray(s, e)),
});

export async function runStatus(ctx: BenchContext): Promise<StatusResults> {
  const connections = 10;
  const duration = ctx.quick ? 3 : 10;
  const count = ctx.quick ? 5 : 20;
  const runs: StatusRun[] = [];
  let api: ApiProcess | undefined;
  let workers: Workers | undefined;
  const ids: string[] = [];
  try {
    await drainQueue(ctx);
    api = await startApi(ctx);
    let readyBy = 'worker';
    try {
      workers = await startWorkers(ctx, 1);
    } catch (e) {
      readyBy = `bench (the worker did not start: ${String(e).split('\n')[0]})`;
    }
    const client = new DropshipClient({ baseUrl: api.base, apiKey: BENCH_API_KEY });
    for (let i = 0; i < count; i++) {
      const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 40 + i * 5, g: 157, b: 143 } } }).png().toBuffer();
      const v = await client.upload(blob(png, `status-${i}.png`, 'image/png'), { signal: AbortSignal.timeout(60_000) });
      ids.push(v.id);
    }
    if (workers) {
      const until = Date.now() + 60_000;
      let pending = [...ids];
      while (pending.length && Date.now() < until) {
        const views = await Promise.all(pending.map((id) => client.status(id)));
        pending = pending.filter((_, j) => views[j]!.status !== 'ready');
        if (pending.length) await new Promise((r) => setTimeout(r, 250));
      }
      if (pending.length) readyBy = `bench (the worker left ${pending.length}/${ids.length} drops not ready after 60 s)`;
    }
    if (readyBy !== 'worker') {
      // The GET costs the same whoever wrote "ready"; write it through the state machine.
      const repo = createManifestRepo(ctx.store);
      for (const id of ids) {
        await repo.applyEvent(id, { type: 'processed', at: new Date(), sniffedType: 'image/png', width: 640, height: 480, thumbnail: 'none', thumbnails: [] });
      }
    }
    await workers?.stop();
    workers = undefined;
    for (const id of ids) {
      const v = await client.status(id);
      if (v.status !== 'ready') throw new Error(`drop ${id} is ${v.status}, not ready`);
    }
    let i = 0;
    const spec = {
      url: `${api.base}/v1/drops/${ids[0]}`,
      setupRequest: (req: { path?: string }) => ({ ...req, path: `/v1/drops/${ids[i++ % ids.length]}` }),
    };
    const keys = ids.map((id) => dropKeys(id).manifest);
    await load(spec, { connections, duration: ctx.quick ? 1 : 3 });
    await rawGets(ctx, keys, connections, ctx.quick ? 1 : 3, 0);
    const raw: RawGetRun[] = [];
    for (let rep = 1; rep <= ctx.reps; rep++) {
      const order = rep % 2 ? ['api', 'raw'] : ['raw', 'api'];
      for (const which of order) {
        if (which === 'raw') {
          const r = await rawGets(ctx, keys, connections, duration, rep);
          raw.push(r);
          ctx.log(`  status rep ${rep}: raw GetObject ${r.reqPerSec.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}`);
          continue;
        }
        const before = sampleProc(api.pid);
        const result = await load(spec, { connections, duration });
        const after = sampleProc(api.pid);
        runs.push({ rep, result, serverCpuSeconds: after.cpuSeconds - before.cpuSeconds });
        ctx.log(`  status rep ${rep}: api ${result.reqPerSec.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`);
      }
    }
    return { connections, duration, drops: ids.length, readyBy, runs, raw };
  } finally {
    await workers?.stop();
    await api?.stop();
    for (const id of ids) await deletePrefix(ctx.store, `drops/${id}/`).catch(() => 0);
  }
}
