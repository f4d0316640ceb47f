/**
 * Benchmark 5 — memory bound of the curl streaming route: peak RSS of a fresh api process
 * per body size (64 MiB … 3 GiB), bodies generated on the fly (nothing written to disk).
 * VmHWM is reset after a warm-up upload, so the peak is the measured upload's own; the RSS
 * is also sampled every 250 ms for the timeline plot.
 */
import { deletePrefix, type BenchContext } from '../lib/env.js';
import { generatedBody, startApi, streamPut } from '../lib/api.js';
import { resetPeak, sampleProc } from '../lib/proc.js';
import { GIB, MIB } from '../lib/stats.js';

export interface MemoryRun {
  size: number;
  rep: number;
  idleRssBytes: number;
  peakRssBytes: number;
  cpuSeconds: number;
  wallSeconds: number;
  mibPerSecond: number;
  readBytes: number;
  /** [seconds since start, RSS bytes] */
  timeline: [number, number][];
}

export interface MemoryResults {
  sizes: number[];
  runs: MemoryRun[];
  partsInFlight: number;
  peakResetWorked: boolean;
}

export async function runMemory(ctx: BenchContext): Promise<MemoryResults> {
  const sizes = ctx.quick ? [64 * MIB, 256 * MIB] : [64 * MIB, 256 * MIB, GIB, 2 * GIB, 3 * GIB];
  const runs: MemoryRun[] = [];
  let peakResetWorked = true;
  for (let rep = 1; rep <= ctx.reps; rep++) {
    // Alternate the order so slow drift on a shared machine does not line up with size.
    const order = rep % 2 ? sizes : [...sizes].reverse();
    for (const size of order) {
      const api = await startApi(ctx);
      try {
        const warm = await streamPut(api.base, 'warm.bin', generatedBody(20 * MIB), 20 * MIB, { signal: AbortSignal.timeout(60_000) });
        if (warm.status !== 201) throw new Error(`warm-up: HTTP ${warm.status} ${warm.text}`);
        if (warm.dropId) await deletePrefix(ctx.store, `drops/${warm.dropId}/`);
        if (!resetPeak(api.pid)) peakResetWorked = false;
        const before = sampleProc(api.pid);
        const timeline: [number, number][] = [];
        const t0 = performance.now();
        const sampler = setInterval(() => {
          try {
            timeline.push([(performance.now() - t0) / 1000, sampleProc(api.pid).rssBytes]);
          } catch {
            /* exited */
          }
        }, 250);
        let r;
        try {
          r = await streamPut(api.base, `mem-${size}.bin`, generatedBody(size), size, { signal: AbortSignal.timeout(10 * 60_000) });
        } finally {
          clearInterval(sampler);
        }
        const wallSeconds = (performance.now() - t0) / 1000;
        const after = sampleProc(api.pid);
        if (r.status !== 201 || !r.dropId) throw new Error(`streaming ${size} bytes: HTTP ${r.status} ${r.text}`);
        runs.push({
          size,
          rep,
          idleRssBytes: before.rssBytes,
          peakRssBytes: after.peakRssBytes,
          cpuSeconds: after.cpuSeconds - before.cpuSeconds,
          wallSeconds,
          mibPerSecond: size / MIB / wallSeconds,
          readBytes: after.readBytes - before.readBytes,
          timeline,
        });
        ctx.log(
          `  memory ${(size / MIB).toString().padStart(5)} MiB rep ${rep}: peak ${(after.peakRssBytes / MIB).toFixed(1)} MiB (idle ${(before.rssBytes / MIB).toFixed(1)}), ${wallSeconds.toFixed(1)} s, ${(size / MIB / wallSeconds).toFixed(1)} MiB/s, api CPU ${(after.cpuSeconds - before.cpuSeconds).toFixed(2)} s`,
        );
        await deletePrefix(ctx.store, `drops/${r.dropId}/`);
      } finally {
        await api.stop();
      }
    }
  }
  return { sizes, runs, partsInFlight: ctx.config.DROPSHIP_STREAM_PARTS_IN_FLIGHT, peakResetWorked };
}
