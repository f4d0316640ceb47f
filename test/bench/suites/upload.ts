/**
 * Benchmark 1 — the three upload paths on the same files, the same emulator, the same run:
 *
 *   direct     dropship tickets + parallel part PUTs straight to S3 (the client SDK)
 *   streaming  the curl route: one PUT through the api, which streams it into S3
 *   baseline   @aws-sdk/lib-storage Upload straight to the emulator, with the part size
 *              dropship plans for the file and the same concurrency (the ceiling)
 *
 * The api runs in its own process (one per path and repetition, warmed up on both paths
 * first); its CPU time, peak RSS (VmHWM reset before each upload) and bytes read are taken
 * from /proc around each upload.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { randomFillSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { DropshipClient } from '../../../src/client/client.js';
import { fileSource } from '../../../src/client/node.js';
import { planUpload } from '../../../src/core/parts.js';
import { BENCH_API_KEY, deletePrefix, type BenchContext } from '../lib/env.js';
import { startApi, streamPut, type ApiProcess } from '../lib/api.js';
import { delta, resetPeak, sampleProc, type Delta } from '../lib/proc.js';
import { GIB, MIB } from '../lib/stats.js';

export type UploadMethod = 'direct' | 'streaming' | 'baseline';
export const METHODS: UploadMethod[] = ['direct', 'streaming', 'baseline'];

export interface UploadRun {
  method: UploadMethod;
  size: number;
  rep: number;
  wallSeconds: number;
  mibPerSecond: number;
  partSize: number;
  concurrency: number;
  /** The api process's cost (absent for the baseline, which does not touch the api). */
  api?: Delta;
  /** CPU seconds per second the same api process burnt idle just before (timers, metrics, GC). */
  apiIdleCpuPerSecond?: number;
}

export interface UploadResults {
  sizes: number[];
  concurrency: number;
  runs: UploadRun[];
  peakResetWorked: boolean;
}

const TIMEOUT_MS = 5 * 60_000;
const IDLE_WINDOW_MS = 3000;

async function makeFile(path: string, size: number) {
  const fh = await open(path, 'w');
  try {
    const block = Buffer.allocUnsafe(16 * MIB);
    for (let off = 0; off < size; off += block.length) {
      const n = Math.min(block.length, size - off);
      randomFillSync(block, 0, n);
      await fh.write(block, 0, n, off);
    }
  } finally {
    await fh.close();
  }
}

/** Warm both paths of a fresh api (JIT, connection pools) so the run measures steady state. */
async function warmUp(ctx: BenchContext, api: ApiProcess, warmFile: string) {
  const client = new DropshipClient({ baseUrl: api.base, apiKey: BENCH_API_KEY });
  const view = await client.upload(await fileSource(warmFile, { name: 'warm.bin' }), {
    concurrency: 4,
    signal: AbortSignal.timeout(60_000),
  });
  await deletePrefix(ctx.store, `drops/${view.id}/`);
  const r = await streamPut(api.base, 'warm.bin', createReadStream(warmFile), 20 * MIB, { signal: AbortSignal.timeout(60_000) });
  if (r.status !== 201) throw new Error(`warm-up stream: HTTP ${r.status} ${r.text}`);
  if (r.dropId) await deletePrefix(ctx.store, `drops/${r.dropId}/`);
}

export async function runUpload(ctx: BenchContext): Promise<UploadResults> {
  const sizes = ctx.quick ? [16 * MIB, 64 * MIB] : [16 * MIB, 256 * MIB, GIB];
  const concurrency = 4;
  const dir = join('/tmp', `dropship-bench-${process.pid}`);
  await mkdir(dir, { recursive: true });
  const runs: UploadRun[] = [];
  let peakResetWorked = true;
  try {
    const warmFile = join(dir, 'warm.bin');
    await makeFile(warmFile, 20 * MIB);
    const files = new Map<number, string>();
    for (const size of sizes) {
      const p = join(dir, `file-${size}.bin`);
      await makeFile(p, size);
      files.set(size, p);
    }

    for (let rep = 1; rep <= ctx.reps; rep++) {
      // One api process per path and repetition (direct, streaming), warmed up once; its
      // peak RSS is reset before every upload (peak RSS per size in a fresh process: §5).
      const apis: Partial<Record<UploadMethod, ApiProcess>> = {};
      try {
        await Promise.all((['direct', 'streaming'] as const).map(async (m) => (apis[m] = await startApi(ctx))));
        for (const api of Object.values(apis)) await warmUp(ctx, api, warmFile);
        // What the api costs doing nothing, so the report can show an upload's own share.
        await new Promise((r) => setTimeout(r, 1000));
        const idle0 = Object.values(apis).map((a) => sampleProc(a.pid));
        await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
        const idleRate = new Map(
          Object.values(apis).map((a, i) => {
            const b = sampleProc(a.pid);
            return [a.pid, (b.cpuSeconds - idle0[i]!.cpuSeconds) / ((b.at - idle0[i]!.at) / 1000)];
          }),
        );
        for (const size of sizes) {
          // The three paths back to back per size; the order rotates per repetition so drift
          // on a shared machine hits every path.
          const order = METHODS.map((_, i) => METHODS[(i + rep - 1) % METHODS.length]!);
          for (const method of order) {
            const api = apis[method];
            const plan = planUpload(size);
            const path = files.get(size)!;
            const signal = AbortSignal.timeout(TIMEOUT_MS);
            if (api && !resetPeak(api.pid)) peakResetWorked = false;
            const before = api ? sampleProc(api.pid) : undefined;
            const t0 = performance.now();
            let cleanup: string;
            if (method === 'direct') {
              const client = new DropshipClient({ baseUrl: api!.base, apiKey: BENCH_API_KEY });
              const view = await client.upload(await fileSource(path, { name: `bench-${size}.bin` }), { concurrency, signal });
              if (view.status !== 'processing' && view.status !== 'ready') throw new Error(`direct upload ended ${view.status}`);
              cleanup = `drops/${view.id}/`;
            } else if (method === 'streaming') {
              const r = await streamPut(api!.base, `bench-${size}.bin`, createReadStream(path, { highWaterMark: 1024 * 1024 }), size, { signal });
              if (r.status !== 201 || !r.dropId) throw new Error(`streaming upload: HTTP ${r.status} ${r.text}`);
              cleanup = `drops/${r.dropId}/`;
            } else {
              const key = `bench-baseline/${randomUUID()}`;
              const up = new Upload({
                client: ctx.aws.s3,
                params: { Bucket: ctx.config.DROPSHIP_BUCKET, Key: key, Body: createReadStream(path, { highWaterMark: 1024 * 1024 }) },
                partSize: Math.max(plan.partSize, 5 * MIB),
                queueSize: concurrency,
                leavePartsOnError: false,
                abortController: abortControllerFor(signal),
              });
              await up.done();
              cleanup = key;
            }
            const wallSeconds = (performance.now() - t0) / 1000;
            const after = api ? sampleProc(api.pid) : undefined;
            runs.push({
              method,
              size,
              rep,
              wallSeconds,
              mibPerSecond: size / MIB / wallSeconds,
              partSize: plan.partSize,
              concurrency,
              ...(before && after ? { api: delta(before, after), apiIdleCpuPerSecond: idleRate.get(api!.pid) } : {}),
            });
            const last = runs.at(-1)!;
            ctx.log(
              `  upload ${method.padEnd(9)} ${(size / MIB).toString().padStart(5)} MiB rep ${rep}: ${wallSeconds.toFixed(2)} s, ${last.mibPerSecond.toFixed(1)} MiB/s` +
                (last.api ? `, api ${last.api.cpuSeconds.toFixed(3)} CPU s, peak ${(last.api.peakRssBytes / MIB).toFixed(0)} MiB, read ${(last.api.readBytes / MIB).toFixed(2)} MiB` : ''),
            );
            await (cleanup.endsWith('/') ? deletePrefix(ctx.store, cleanup) : ctx.store.deleteKeys([cleanup]));
          }
        }
      } finally {
        await Promise.all(Object.values(apis).map((a) => a.stop()));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { sizes, concurrency, runs, peakResetWorked };
}

function abortControllerFor(signal: AbortSignal): AbortController {
  const c = new AbortController();
  if (signal.aborted) c.abort(signal.reason);
  else signal.addEventListener('abort', () => c.abort(signal.reason), { once: true });
  return c;
}
