/**
 * Benchmark 4 — thumbnails of 12 MP JPEGs (4000×3000, photo-like noise, made with sharp):
 *
 *   latency     one image at a time through the real path (ticket, PUT, complete) with one
 *               worker process idle-polling: complete sent → readyAt in the manifest
 *   throughput  N images queued while no worker runs, then 1 or 2 worker processes started;
 *               images/s = N / (last readyAt − first worker consuming)
 *   plain sharp the same JPEG buffers, the same widths (256 + 1024 WebP, quality 80), the
 *               same number of images in flight (2 per worker process, the worker's default
 *               concurrency), in this process, right before each worker run — written two
 *               ways: the idiomatic one (a clone() per width, each decoding the JPEG) and
 *               decode-once (shrink to the largest width into raw pixels, encode every width
 *               from those); the worker is compared with the faster of the two
 */
import sharp from 'sharp';
import { DropshipClient } from '../../../src/client/client.js';
import type { DropView } from '../../../src/client/types.js';
import { BENCH_API_KEY, deletePrefix, type BenchContext } from '../lib/env.js';
import { startApi, type ApiProcess } from '../lib/api.js';
import { drainQueue, startWorkers, type Workers } from '../lib/workers.js';
import { cpuOf } from '../lib/proc.js';
import { percentile } from '../lib/stats.js';

export interface LatencySample {
  completeToReadyMs: number;
  thumbnail: string;
}

export interface ThroughputRun {
  kind: 'worker' | 'sharp-clone' | 'sharp-decode-once';
  /** Worker processes (worker) or images in flight / 2 (sharp), so the pairs line up. */
  processes: number;
  inFlight: number;
  rep: number;
  images: number;
  /** From the start (first worker polling / first image handed to sharp) to the last image done. */
  seconds: number;
  imagesPerSecond: number;
  /**
   * Steady state: (images − in flight) ÷ (last done − the in-flight-th done), which leaves out
   * the start-up and the first round (cold process, first sharp call, new connections).
   */
  steadyImagesPerSecond: number;
  /** Each image's completion, seconds after the start, sorted. */
  doneOffsets: number[];
  /** Worker runs: how long after the first worker the last one started polling, seconds. */
  startSpread?: number;
  /** CPU seconds per image of the thumbnailing process(es): the workers, or this process for plain sharp. */
  cpuPerImage?: number;
  /** CPU seconds per image the emulator (LocalStack) spent meanwhile: S3 and SQS calls. */
  emulatorCpuPerImage?: number;
}

export interface ThumbnailResults {
  width: number;
  height: number;
  jpegBytes: number[];
  widths: number[];
  workerConcurrency: number;
  latency: LatencySample[];
  latencyP50: number;
  latencyP95: number;
  throughput: ThroughputRun[];
}

const W = 4000;
const H = 3000;

/** A photo-like 12 MP JPEG: busy noise over gradients, so it decodes as slowly as a real one. */
async function photo(seed: number): Promise<Buffer> {
  const raw = Buffer.allocUnsafe(W * H * 3);
  let s = (0x9e3779b9 ^ (seed * 0x85ebca6b)) >>> 0 || 1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const n = s & 63;
      const i = (y * W + x) * 3;
      raw[i] = (40 + n + ((x * 150) / W + seed * 20)) & 255;
      raw[i + 1] = (70 + n + (y * 120) / H) & 255;
      raw[i + 2] = (100 + n + ((x + y) * 60) / (W + H)) & 255;
    }
  }
  return sharp(raw, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

type PlainMode = 'sharp-clone' | 'sharp-decode-once';

/** One image, plain sharp, no I/O: the idiomatic way or decoding once. */
async function thumbnailsOf(buf: Buffer, widths: number[], mode: PlainMode): Promise<void> {
  const box = (w: number) => ({ width: w, height: w * 4, fit: 'inside' as const, withoutEnlargement: true });
  if (mode === 'sharp-clone') {
    const img = sharp(buf, { failOn: 'error' }).rotate();
    await Promise.all(widths.map((w) => img.clone().resize(box(w)).webp({ quality: 80 }).toBuffer()));
    return;
  }
  const { data, info } = await sharp(buf, { failOn: 'error' })
    .rotate()
    .resize(box(Math.max(...widths)))
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels };
  for (const w of widths) await sharp(data, { raw }).resize(box(w)).webp({ quality: 80 }).toBuffer();
}

/** `count` images, `inFlight` at a time; returns each one's completion in seconds after the start. */
async function plainSharp(jpegs: Buffer[], count: number, inFlight: number, widths: number[], mode: PlainMode): Promise<number[]> {
  let next = 0;
  const done: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        await thumbnailsOf(jpegs[next++ % jpegs.length]!, widths, mode);
        done.push((performance.now() - t0) / 1000);
      }
    }),
  );
  return done.sort((a, b) => a - b);
}

function rates(done: number[], inFlight: number) {
  const seconds = done.at(-1)!;
  const k = Math.min(inFlight, done.length - 1);
  return {
    seconds,
    imagesPerSecond: done.length / seconds,
    steadyImagesPerSecond: (done.length - k) / (done.at(-1)! - done[k - 1]!),
    doneOffsets: done,
  };
}

async function uploadImage(client: DropshipClient, data: Buffer, name: string, complete: boolean) {
  const t = await client.createDrop({ name, size: data.length, type: 'image/jpeg' });
  const part = t.parts[0]!;
  if (t.upload.mode !== 'single') throw new Error(`a ${data.length}-byte image got a ${t.upload.mode} ticket; the bench sends single PUTs`);
  // The headers signed into the URL (If-None-Match: a single PUT may only create the object).
  const r = await fetch(part.url, { method: 'PUT', headers: part.headers, body: new Uint8Array(data), signal: AbortSignal.timeout(60_000) });
  const text = await r.text();
  if (!r.ok) throw new Error(`image PUT: HTTP ${r.status} ${text.slice(0, 300)}`);
  // For a single-PUT drop S3 announces the object at this PUT; complete follows at once.
  const completeAt = Date.now();
  if (complete) await client.complete(t.id, t.ownerToken, [{ partNumber: 1, etag: r.headers.get('etag')! }]);
  return { id: t.id, ownerToken: t.ownerToken, etag: r.headers.get('etag')!, completeAt };
}

async function waitReady(client: DropshipClient, ids: string[], ms: number, pollMs: number) {
  const until = Date.now() + ms;
  const views = new Map<string, DropView>();
  let pending = [...ids];
  while (pending.length) {
    if (Date.now() > until) throw new Error(`${pending.length}/${ids.length} images not ready after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, pollMs));
    // The bench's drops have no password: every view is the full one.
    const got = (await Promise.all(pending.map((id) => client.status(id)))) as DropView[];
    for (const v of got) if (v.status === 'ready' || v.status === 'failed') views.set(v.id, v);
    pending = pending.filter((id) => !views.has(id));
  }
  return views;
}

export async function runThumbnails(ctx: BenchContext): Promise<ThumbnailResults> {
  const widths = ctx.config.thumbWidths;
  const workerConcurrency = ctx.config.DROPSHIP_WORKER_CONCURRENCY;
  const latencyCount = ctx.quick ? 3 : 20;
  const batch = ctx.quick ? 6 : 16;
  ctx.log('  making 12 MP JPEGs');
  const jpegs = await Promise.all([1, 2, 3, 4].map(photo));
  const results: ThumbnailResults = {
    width: W,
    height: H,
    jpegBytes: jpegs.map((j) => j.length),
    widths,
    workerConcurrency,
    latency: [],
    latencyP50: NaN,
    latencyP95: NaN,
    throughput: [],
  };
  let api: ApiProcess | undefined;
  let workers: Workers | undefined;
  const ids: string[] = [];
  // The baseline gets no help from libvips' cache on the reused buffers (uploads are unique).
  sharp.cache(false);
  try {
    await drainQueue(ctx);
    api = await startApi(ctx);
    const client = new DropshipClient({ baseUrl: api.base, apiKey: BENCH_API_KEY });

    // Latency: one image at a time, one idle worker.
    workers = await startWorkers(ctx, 1);
    // Warm the worker (first sharp load, connections) with an image that is not measured.
    const warm = await uploadImage(client, jpegs[0]!, 'warm.jpg', true);
    ids.push(warm.id);
    await waitReady(client, [warm.id], 60_000, 50);
    for (let i = 0; i < latencyCount; i++) {
      const u = await uploadImage(client, jpegs[i % jpegs.length]!, `latency-${i}.jpg`, true);
      ids.push(u.id);
      const v = (await waitReady(client, [u.id], 60_000, 50)).get(u.id)!;
      const readyAt = Date.parse(v.readyAt ?? '');
      results.latency.push({ completeToReadyMs: readyAt - u.completeAt, thumbnail: v.thumbnail });
      ctx.log(`  latency ${i + 1}/${latencyCount}: complete→ready ${readyAt - u.completeAt} ms (thumbnail ${v.thumbnail})`);
    }
    await workers.stop();
    workers = undefined;
    const lat = results.latency.map((l) => l.completeToReadyMs);
    results.latencyP50 = percentile(lat, 50);
    results.latencyP95 = percentile(lat, 95);

    // Throughput: worker processes vs plain sharp, interleaved, same images, same in-flight count.
    const emulatorPids = ctx.emulatorPids;
    for (let rep = 1; rep <= ctx.reps; rep++) {
      for (const processes of [1, 2]) {
        const inFlight = processes * workerConcurrency;
        const plain: Record<PlainMode, number> = { 'sharp-clone': NaN, 'sharp-decode-once': NaN };
        for (const mode of (rep % 2 ? ['sharp-clone', 'sharp-decode-once'] : ['sharp-decode-once', 'sharp-clone']) as PlainMode[]) {
          const c0 = process.cpuUsage();
          const r = rates(await plainSharp(jpegs, batch, inFlight, widths, mode), inFlight);
          const c = process.cpuUsage(c0);
          plain[mode] = r.steadyImagesPerSecond;
          results.throughput.push({ kind: mode, processes, inFlight, rep, images: batch, ...r, cpuPerImage: (c.user + c.system) / 1e6 / batch });
        }

        await drainQueue(ctx);
        const queued: string[] = [];
        for (let i = 0; i < batch; i++) {
          const u = await uploadImage(client, jpegs[i % jpegs.length]!, `tp-${rep}-${processes}-${i}.jpg`, true);
          queued.push(u.id);
          ids.push(u.id);
        }
        workers = await startWorkers(ctx, processes);
        const workerPids = workers.children.map((c) => c.pid);
        const cpu0 = cpuOf(workerPids);
        const emu0 = cpuOf(emulatorPids);
        const views = await waitReady(client, queued, 5 * 60_000, 500);
        const cpuPerImage = (cpuOf(workerPids) - cpu0) / batch;
        const emulatorCpuPerImage = emulatorPids.length ? (cpuOf(emulatorPids) - emu0) / batch : undefined;
        const t0 = workers.firstConsumingAt;
        const workers0 = workers;
        await workers.stop();
        workers = undefined;
        const failed = [...views.values()].filter((v) => v.status !== 'ready' || v.thumbnail !== 'ready').length;
        if (failed) throw new Error(`${failed}/${batch} images did not end ready with thumbnails`);
        const readyOffsets = [...views.values()].map((v) => (Date.parse(v.readyAt ?? '') - t0) / 1000).sort((a, b) => a - b);
        const startSpread = (workers0.lastConsumingAt - t0) / 1000;
        const r = rates(readyOffsets, inFlight);
        results.throughput.push({ kind: 'worker', processes, inFlight, rep, images: batch, ...r, startSpread, cpuPerImage, emulatorCpuPerImage });
        ctx.log(
          `  throughput rep ${rep}, ${processes} worker process(es) / ${inFlight} in flight, steady state: worker ${r.steadyImagesPerSecond.toFixed(2)} images/s ` +
            `(${r.imagesPerSecond.toFixed(2)} from its start); plain sharp ${plain['sharp-clone'].toFixed(2)} (clone per width), ${plain['sharp-decode-once'].toFixed(2)} (decode once) images/s`,
        );
        for (const id of queued) await deletePrefix(ctx.store, `drops/${id}/`).catch(() => 0);
      }
    }
    return results;
  } finally {
    sharp.cache(true);
    await workers?.stop();
    await api?.stop();
    for (const id of ids) await deletePrefix(ctx.store, `drops/${id}/`).catch(() => 0);
  }
}
