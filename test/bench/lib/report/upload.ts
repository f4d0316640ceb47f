/** §1 of report.md: the upload paths (direct, streaming route, lib-storage baseline) and their plots. */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderPng } from '../plot.js';
import { GIB, fmt, sizeLabel, spread, type Target } from '../stats.js';
import type { UploadResults, UploadRun } from '../../suites/upload.js';
import { mib, pairedRatio, type Section } from './common.js';

const IDLE_S = 3;

const METHOD_LABEL = { direct: 'direct (dropship SDK → S3)', streaming: 'streaming route (PUT through the api)', baseline: 'baseline (lib-storage → S3)' };

export async function uploadSection(u: UploadResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  const targets: Target[] = [];
  const of = (method: string, size: number) => u.runs.filter((r) => r.method === method && r.size === size);
  const cpuPerGib = (r: UploadRun) => (r.api ? r.api.cpuSeconds / (r.size / GIB) : NaN);
  /** The upload's own CPU: the process's minus what it burnt idle over the same wall time. */
  const netCpu = (r: UploadRun) =>
    r.api ? Math.max(0.001, r.api.cpuSeconds - (r.apiIdleCpuPerSecond ?? 0) * r.wallSeconds) : NaN;

  md.push('## 1. Upload paths', '');
  md.push(
    `Same files (random bytes in /tmp, read from the page cache), same emulator, ${u.concurrency} parts in flight for direct and baseline; ` +
      `part size as dropship plans it (files ≤ 16 MiB are a single PUT on every path). The streaming route sends ` +
      `${'`'}DROPSHIP_STREAM_PARTS_IN_FLIGHT${'`'} parts at once (default 2). The api ran in its own process, one per path and repetition, ` +
      `warmed up on both paths first; the three paths ran back to back per size, their order rotating per repetition; its CPU, peak RSS (VmHWM reset before each upload${u.peakResetWorked ? '' : ' — **reset failed: peaks include start-up**'}) ` +
      `and bytes read are from /proc around each upload. Peak RSS per size in a fresh process is §5.`,
    '',
  );
  md.push('| file | path | wall s | MiB/s | api CPU s | api CPU s per GiB | api peak RSS MiB | api bytes read | % of the file |');
  md.push('|---|---|---|---|---|---|---|---|---|');
  for (const size of u.sizes) {
    for (const method of ['direct', 'streaming', 'baseline'] as const) {
      const rs = of(method, size);
      if (!rs.length) continue;
      const api = rs.every((r) => r.api);
      md.push(
        `| ${sizeLabel(size)} | ${METHOD_LABEL[method]} | ${fmt(spread(rs.map((r) => r.wallSeconds)))} | ${fmt(spread(rs.map((r) => r.mibPerSecond)))} | ` +
          (api
            ? `${fmt(spread(rs.map((r) => r.api!.cpuSeconds)))} | ${fmt(spread(rs.map(cpuPerGib)))} | ${fmt(spread(rs.map((r) => mib(r.api!.peakRssBytes))))} | ` +
              `${fmt(spread(rs.map((r) => r.api!.readBytes / 1024)), 'KiB')} | ${fmt(spread(rs.map((r) => (100 * r.api!.readBytes) / r.size)), '%')} |`
            : '— | — | — | — | — |'),
      );
    }
  }
  md.push('');
  const idle = spread(u.runs.filter((r) => r.apiIdleCpuPerSecond !== undefined).map((r) => r.apiIdleCpuPerSecond! * 1000));
  if (idle.n) {
    md.push(
      `The idle api process itself burns ${fmt(idle, 'ms')} of CPU per second (measured for ${IDLE_S} s on each api process after its warm-up: timers, metrics, GC). ` +
        "Over a direct upload, whose wall time is set by the emulator, that background is a large part of the api's CPU; \"net\" below subtracts it (idle rate × the upload's wall time) to show the upload's own cost.",
      '',
    );
  }
  md.push('Ratios, per repetition (same run, same file):', '');
  md.push('| file | direct ÷ baseline throughput | streaming ÷ direct api CPU | same, net of idle | api bytes read on direct, % of file |');
  md.push('|---|---|---|---|---|');
  const key = (r: UploadRun) => String(r.rep);
  for (const size of u.sizes) {
    const thr = pairedRatio(of('direct', size), of('baseline', size), key, (r) => r.mibPerSecond);
    const cpu = pairedRatio(of('streaming', size), of('direct', size), key, (r) => r.api?.cpuSeconds ?? NaN);
    const cpuNet = pairedRatio(of('streaming', size), of('direct', size), key, netCpu);
    const bytes = spread(of('direct', size).map((r) => (100 * (r.api?.readBytes ?? NaN)) / r.size));
    md.push(`| ${sizeLabel(size)} | ${fmt(thr, '×')} | ${fmt(cpu, '×')} | ${fmt(cpuNet, '×')} | ${fmt(bytes, '%', 2)} |`);
  }
  md.push('');

  const big = Math.max(...u.sizes);
  const cpuRatio = pairedRatio(of('streaming', big), of('direct', big), key, (r) => r.api?.cpuSeconds ?? NaN);
  const directCpu = spread(of('direct', big).map(cpuPerGib));
  const streamCpu = spread(of('streaming', big).map(cpuPerGib));
  const cpuRatioNet = pairedRatio(of('streaming', big), of('direct', big), key, netCpu);
  targets.push({
    id: 'upload-cpu',
    what: `api CPU per GiB, direct vs streaming (${sizeLabel(big)}); whole process`,
    target: '≥ 50× lower on direct',
    measured: `direct ${fmt(directCpu, 's/GiB')}; streaming ${fmt(streamCpu, 's/GiB')}`,
    ratio: fmt(cpuRatio, '×'),
    pass: cpuRatio.n ? cpuRatio.median >= 50 : undefined,
  });
  if (cpuRatioNet.n && of('direct', big).some((r) => r.apiIdleCpuPerSecond !== undefined)) {
    targets.push({
      id: 'upload-cpu-net',
      what: `api CPU per GiB, direct vs streaming (${sizeLabel(big)}); net of the idle process's own background`,
      target: '≥ 50× lower on direct',
      measured: `direct ${fmt(spread(of('direct', big).map((r) => netCpu(r) / (r.size / GIB))), 's/GiB')}; streaming ${fmt(spread(of('streaming', big).map((r) => netCpu(r) / (r.size / GIB))), 's/GiB')}`,
      ratio: fmt(cpuRatioNet, '×'),
      pass: cpuRatioNet.median >= 50,
    });
  }
  const bytes = spread(of('direct', big).map((r) => (r.api?.readBytes ?? NaN) / r.size));
  targets.push({
    id: 'upload-bytes',
    what: `bytes the api receives on direct (${sizeLabel(big)})`,
    target: '< 0.1 % of the file',
    measured: `${fmt(spread(of('direct', big).map((r) => (r.api?.readBytes ?? NaN) / 1024)), 'KiB')} read by the api process`,
    ratio: bytes.n ? fmt({ ...bytes, median: bytes.median * 100, min: bytes.min * 100, max: bytes.max * 100 }, '%', 2) : '—',
    pass: bytes.n ? bytes.max < 0.001 : undefined,
  });
  // Throughput against the ceiling, for every size (the fixed cost of a ticket and a
  // complete weighs most on the smallest file).
  for (const size of [...u.sizes].reverse()) {
    const thr = pairedRatio(of('direct', size), of('baseline', size), key, (r) => r.mibPerSecond);
    targets.push({
      id: `upload-throughput-${size}`,
      what: `direct throughput vs lib-storage baseline (${sizeLabel(size)})`,
      target: '≥ 0.95×',
      measured: `direct ${fmt(spread(of('direct', size).map((r) => r.mibPerSecond)), 'MiB/s')}; baseline ${fmt(spread(of('baseline', size).map((r) => r.mibPerSecond)), 'MiB/s')}`,
      ratio: fmt(thr, '×'),
      pass: thr.n ? thr.median >= 0.95 : undefined,
    });
  }

  // plots
  const rows = u.sizes.flatMap((size) =>
    (['direct', 'streaming', 'baseline'] as const).map((method) => {
      const s = spread(of(method, size).map((r) => r.mibPerSecond));
      return { size: sizeLabel(size), order: size, method, median: s.median, min: s.min, max: s.max };
    }),
  );
  await renderPng(
    {
      title: { text: 'Upload throughput by path', subtitle: `median of ${u.runs.length ? Math.max(...u.runs.map((r) => r.rep)) : 0} runs, whiskers min–max; same emulator, same run` },
      data: { values: rows },
      width: 420,
      height: 260,
      encoding: {
        x: { field: 'size', type: 'ordinal', sort: u.sizes.map(sizeLabel), title: 'file size', axis: { labelAngle: 0 } },
        xOffset: { field: 'method', sort: ['direct', 'streaming', 'baseline'] },
        color: { field: 'method', sort: ['direct', 'streaming', 'baseline'], title: 'path' },
      },
      layer: [
        { mark: 'bar', encoding: { y: { field: 'median', type: 'quantitative', title: 'MiB/s' } } },
        { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
      ],
    } as TopLevelSpec,
    join(outDir, 'upload-throughput.png'),
  );
  const cpuRows = u.sizes.flatMap((size) =>
    (['direct', 'streaming'] as const).map((method) => {
      const s = spread(of(method, size).map(cpuPerGib));
      return { size: sizeLabel(size), order: size, method, median: s.median, min: s.min, max: s.max };
    }),
  );
  await renderPng(
    {
      title: { text: 'api CPU seconds per GiB uploaded', subtitle: 'log scale; median, whiskers min–max; the api in its own process' },
      data: { values: cpuRows },
      width: 420,
      height: 260,
      encoding: {
        x: { field: 'size', type: 'ordinal', sort: u.sizes.map(sizeLabel), title: 'file size', axis: { labelAngle: 0 } },
        color: { field: 'method', sort: ['direct', 'streaming'], title: 'path' },
      },
      layer: [
        {
          mark: { type: 'point', filled: true, size: 80 },
          encoding: { y: { field: 'median', type: 'quantitative', scale: { type: 'log' }, title: 'api CPU s per GiB' } },
        },
        { mark: { type: 'rule' }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
        { mark: { type: 'line', strokeDash: [4, 3] }, encoding: { y: { field: 'median', type: 'quantitative' } } },
      ],
    } as TopLevelSpec,
    join(outDir, 'upload-api-cpu.png'),
  );
  md.push('![upload throughput](upload-throughput.png) ![api CPU per GiB](upload-api-cpu.png)', '');
  return { md, targets };
}
