/**
 * report.md and its plots, from the raw results. Every figure is a median over the
 * repetitions with [min–max]; every ratio is computed per repetition from runs made side by
 * side (same run, same emulator) and then summarised the same way.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Environment } from './machine.js';
import { renderPng } from './plot.js';
import { GIB, MIB, fmt, num, sizeLabel, spread, type Spread, type Target } from './stats.js';
import type { UploadResults, UploadRun } from '../suites/upload.js';
import type { SigningResults, Scenario } from '../suites/signing.js';
import type { StatusResults } from '../suites/status.js';
import type { ThumbnailResults } from '../suites/thumbnails.js';
import type { MemoryResults } from '../suites/memory.js';

export interface AllResults {
  environment?: Environment;
  upload?: UploadResults;
  signing?: SigningResults;
  status?: StatusResults;
  thumbnails?: ThumbnailResults;
  memory?: MemoryResults;
  errors: Record<string, string>;
}

interface Section {
  md: string[];
  targets: Target[];
}

const passText = (p: boolean | undefined) => (p === undefined ? 'n/a' : p ? '**pass**' : '**MISS**');
const mib = (b: number) => b / MIB;
const pct = (x: number) => `${num(x * 100)} %`;

/** Ratios a/b paired by key (repetition, size…), summarised. */
function pairedRatio<T>(as: T[], bs: T[], key: (t: T) => string, value: (t: T) => number): Spread {
  const byKey = new Map(bs.map((b) => [key(b), b]));
  const ratios: number[] = [];
  for (const a of as) {
    const b = byKey.get(key(a));
    if (b) ratios.push(value(a) / value(b));
  }
  return spread(ratios);
}

// ---------------------------------------------------------------------------------------
// 1. uploads

const IDLE_S = 3;

const METHOD_LABEL = { direct: 'direct (dropship SDK → S3)', streaming: 'streaming route (PUT through the api)', baseline: 'baseline (lib-storage → S3)' };

async function uploadSection(u: UploadResults, outDir: string): Promise<Section> {
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

// ---------------------------------------------------------------------------------------
// 2. signing

const SCENARIO_LABEL: Record<Scenario, string> = {
  single: '1 URL per request',
  batch: '100 URLs per request',
  'batch-1': '100 URLs per request, 1 connection',
  create: 'ticket creation (1 GiB file)',
  'create-first-batch': 'create + a 100-URL batch (Companion: 2 requests)',
};
const ALL_SCENARIOS: Scenario[] = ['single', 'batch', 'batch-1', 'create', 'create-first-batch'];

async function signingSection(s: SigningResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  const targets: Target[] = [];
  const of = (scenario: Scenario, target: string) => s.runs.filter((r) => r.scenario === scenario && r.target === target);
  const reps = s.runs.length ? Math.max(...s.runs.map((r) => r.rep)) : 0;

  md.push('## 2. Signing: dropship vs Uppy Companion', '');
  md.push(
    `autocannon, ${s.connections} connections, ${s.duration} s per run after a ${s.warmup} s warm-up per route, ${reps} repetition(s) alternating which server goes first ` +
      `(plus the 100-URL batch with 1 connection for ${Math.ceil(s.duration / 2)} s: its latency without queueing behind other requests). ` +
      'Companion runs as its own process (`companion.app()` on a plain http server, no request logger, no metrics middleware) with `s3: { key, secret, bucket, region, endpoint, forcePathStyle: true }` pointed at the same emulator and bucket. ' +
      'dropship runs `src/api/server.ts` as its own process with the rate limiter, open-ticket and upload-slot limits raised, log level warn. ' +
      'dropship\'s part signing checks the owner token against the drop\'s manifest, read from S3 at most once per drop every 10 s per process; Companion\'s signs without any S3 call. ' +
      'dropship\'s ticket creation calls CreateMultipartUpload, writes the manifest (conditional PUT) and signs the first part URLs (DROPSHIP_TICKET_PARTS, 16 by default); Companion\'s calls CreateMultipartUpload only.',
    '',
  );
  const p = s.proof;
  md.push('Signed URLs against the emulator (asserted before the load; the bench fails otherwise):', '');
  md.push('| PUT of the last part (1 KiB) of a 16 MiB + 1 KiB drop with | expected | got |', '|---|---|---|');
  md.push(`| the URL as signed, exact size | 200 + ETag | ${p.accepted.status}${p.accepted.etag ? ' + ETag' : ''} |`);
  md.push(`| one character of X-Amz-Signature changed | 403 | ${p.tamperedSignature.status} ${p.tamperedSignature.code} |`);
  md.push(`| partNumber changed to another part's | 403 | ${p.tamperedPartNumber.status} ${p.tamperedPartNumber.code} |`);
  md.push(`| body one byte longer than signed | 403 | ${p.wrongSize.status} ${p.wrongSize.code} |`);
  md.push('');

  md.push('| route | server | req/s (tickets/s) | URLs/s | p50 ms | p99 ms | server CPU ms per request (ticket) | non-2xx / errors |');
  md.push('|---|---|---|---|---|---|---|---|');
  for (const scenario of ALL_SCENARIOS) {
    for (const target of ['dropship', 'companion']) {
      const rs = of(scenario, target);
      if (!rs.length) continue;
      const u = scenario.startsWith('create') ? 0 : rs[0]!.urlsPerRequest;
      md.push(
        `| ${SCENARIO_LABEL[scenario]} | ${target} | ${fmt(spread(rs.map((r) => r.result.reqPerSec)))} | ${u ? fmt(spread(rs.map((r) => r.result.reqPerSec * u))) : '—'} | ` +
          `${fmt(spread(rs.map((r) => r.result.p50)))} | ${fmt(spread(rs.map((r) => r.result.p99)))} | ` +
          `${fmt(spread(rs.map((r) => (1000 * r.serverCpuSeconds) / Math.max(1, r.result.ok))))} | ${rs.reduce((a, r) => a + r.result.non2xx, 0)} / ${rs.reduce((a, r) => a + r.result.errors, 0)} |`,
      );
    }
  }
  md.push('');
  const key = (r: { rep: number }) => String(r.rep);
  const ratio = (scenario: Scenario) => pairedRatio(of(scenario, 'dropship'), of(scenario, 'companion'), key, (r) => r.result.reqPerSec);
  const cpuEff = (scenario: Scenario) =>
    pairedRatio(of(scenario, 'companion'), of(scenario, 'dropship'), key, (r) => r.serverCpuSeconds / Math.max(1, r.result.ok));
  md.push('dropship ÷ Companion, per repetition:', '');
  md.push('| route | throughput ratio | server CPU per request, Companion ÷ dropship |', '|---|---|---|');
  for (const scenario of ['single', 'batch', 'batch-1', 'create'] as Scenario[]) {
    if (of(scenario, 'dropship').length) md.push(`| ${SCENARIO_LABEL[scenario]} | ${fmt(ratio(scenario), '×')} | ${fmt(cpuEff(scenario), '×')} |`);
  }
  const sameWork = pairedRatio(of('create', 'dropship'), of('create-first-batch', 'companion'), key, (r) => r.result.reqPerSec);
  const sameWorkCpu = pairedRatio(of('create-first-batch', 'companion'), of('create', 'dropship'), key, (r) => r.serverCpuSeconds / Math.max(1, r.result.ok));
  if (sameWork.n) md.push(`| dropship ticket vs Companion create + a batch of 100 URLs (a client can start sending parts after either; dropship's ticket holds DROPSHIP_TICKET_PARTS URLs) | ${fmt(sameWork, '×')} | ${fmt(sameWorkCpu, '×')} |`);
  md.push('');
  if (s.micro) {
    md.push(
      `The signers alone, in the bench process, per CPU-second (${s.micro.urls.toLocaleString('en-US')} URLs each, after a warm-up): dropship's \`src/aws/signer.ts\` ` +
        `**${num(s.micro.dropshipPerCpuSecond)}** URLs/CPU-s; \`getSignedUrl(UploadPartCommand)\` (what Companion calls per URL) **${num(s.micro.getSignedUrlPerCpuSecond)}** URLs/CPU-s ` +
        `(${num(s.micro.dropshipPerCpuSecond / s.micro.getSignedUrlPerCpuSecond)}×).`,
      '',
    );
  }

  const batchRatio = ratio('batch');
  const dBatch = of('batch', 'dropship');
  const cBatch = of('batch', 'companion');
  targets.push({
    id: 'sign-batch',
    what: 'part URLs signed per second, 100-URL batches',
    target: "≥ 5× Companion's batch route",
    measured: `dropship ${fmt(spread(dBatch.map((r) => r.result.reqPerSec * 100)), 'URLs/s')}; Companion ${fmt(spread(cBatch.map((r) => r.result.reqPerSec * 100)), 'URLs/s')}`,
    ratio: fmt(batchRatio, '×'),
    pass: batchRatio.n ? batchRatio.median >= 5 : undefined,
  });
  const p99 = spread(dBatch.map((r) => r.result.p99));
  targets.push({
    id: 'sign-p99',
    what: `100-URL batch p99 latency (dropship, ${s.connections} connections)`,
    target: '< 25 ms',
    measured: fmt(p99, 'ms'),
    pass: p99.n ? p99.median < 25 : undefined,
  });
  const one = of('batch-1', 'dropship');
  if (one.length) {
    const p99one = spread(one.map((r) => r.result.p99));
    targets.push({
      id: 'sign-p99-1',
      what: '100-URL batch p99 latency (dropship, 1 connection)',
      target: '< 25 ms',
      measured: `${fmt(p99one, 'ms')} (p50 ${fmt(spread(one.map((r) => r.result.p50)), 'ms')}); Companion ${fmt(spread(of('batch-1', 'companion').map((r) => r.result.p99)), 'ms')}`,
      pass: p99one.n ? p99one.median < 25 : undefined,
    });
  }
  const single = ratio('single');
  targets.push({
    id: 'sign-single',
    what: 'part URLs signed per second, one per request',
    target: '(reported; no budget)',
    measured: `dropship ${fmt(spread(of('single', 'dropship').map((r) => r.result.reqPerSec)), 'URLs/s')}; Companion ${fmt(spread(of('single', 'companion').map((r) => r.result.reqPerSec)), 'URLs/s')}`,
    ratio: fmt(single, '×'),
    pass: undefined,
  });
  const create = ratio('create');
  targets.push({
    id: 'ticket',
    what: 'ticket creation req/s (1 GiB file)',
    target: '≥ 1× Companion',
    measured: `dropship ${fmt(spread(of('create', 'dropship').map((r) => r.result.reqPerSec)), 'req/s')}, p99 ${fmt(spread(of('create', 'dropship').map((r) => r.result.p99)), 'ms')}; Companion ${fmt(spread(of('create', 'companion').map((r) => r.result.reqPerSec)), 'req/s')}, p99 ${fmt(spread(of('create', 'companion').map((r) => r.result.p99)), 'ms')}`,
    ratio: fmt(create, '×'),
    pass: create.n ? create.median >= 1 : undefined,
  });
  if (sameWork.n) {
    targets.push({
      id: 'ticket-same-work',
      what: 'ready to send parts: dropship POST /v1/drops vs Companion create + a 100-URL batch',
      target: '(reported)',
      measured: `dropship ${fmt(spread(of('create', 'dropship').map((r) => r.result.reqPerSec)), 'tickets/s')}; Companion ${fmt(spread(of('create-first-batch', 'companion').map((r) => r.result.reqPerSec)), 'tickets/s')}`,
      ratio: fmt(sameWork, '×'),
      pass: undefined,
    });
  }
  targets.push({
    id: 'sign-proof',
    what: 'signed URLs accepted by the emulator, refused when tampered with',
    target: 'accepted; 403 on tampering',
    measured: `${p.accepted.status}; ${p.tamperedSignature.status}/${p.tamperedPartNumber.status}/${p.wrongSize.status}`,
    pass: p.ok,
  });

  const rows = ALL_SCENARIOS.flatMap((scenario) =>
    ['dropship', 'companion'].filter((target) => of(scenario, target).length).map((target) => {
      const rs = of(scenario, target);
      const u = scenario.startsWith('create') ? 1 : rs[0]?.urlsPerRequest || 1;
      const v = spread(rs.map((r) => r.result.reqPerSec * u));
      const l50 = spread(rs.map((r) => r.result.p50));
      const l99 = spread(rs.map((r) => r.result.p99));
      return {
        panel: scenario.startsWith('create') ? 'tickets created / s' : scenario === 'single' ? 'URLs / s, 1 per request' : scenario === 'batch' ? 'URLs / s, 100 per request' : 'none',
        scenario: SCENARIO_LABEL[scenario],
        target: scenario === 'create-first-batch' ? 'companion + 100 URLs' : target,
        median: v.median,
        min: v.min,
        max: v.max,
        p50: l50.median,
        p99: l99.median,
        p99min: l99.min,
        p99max: l99.max,
      };
    }),
  );
  const panel = (name: string) => ({
    title: name,
    width: 150,
    height: 220,
    transform: [{ filter: { field: 'panel', equal: name } }],
    encoding: {
      x: { field: 'target', type: 'nominal', title: null, sort: ['dropship', 'companion', 'companion + 100 URLs'], axis: { labelAngle: -30 } },
      color: { field: 'target', legend: null, sort: ['dropship', 'companion', 'companion + 100 URLs'] },
    },
    layer: [
      { mark: 'bar', encoding: { y: { field: 'median', type: 'quantitative', title: null } } },
      { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
    ],
  });
  await renderPng(
    {
      title: { text: 'Signing and ticket creation: dropship vs Companion 6.2.2', subtitle: `autocannon ${s.connections} connections × ${s.duration} s; median, whiskers min–max` },
      data: { values: rows },
      hconcat: ['URLs / s, 1 per request', 'URLs / s, 100 per request', 'tickets created / s'].map(panel),
    } as TopLevelSpec,
    join(outDir, 'signing.png'),
  );
  await renderPng(
    {
      title: { text: 'Latency by route (log scale)', subtitle: "median of the runs' p50 (open) and p99 (filled), whiskers: min–max of p99; red: the 25 ms budget of the 100-URL batch" },
      data: { values: rows.filter((r) => r.target !== 'companion + 100 URLs') },
      width: 420,
      height: 240,
      encoding: {
        x: { field: 'scenario', type: 'nominal', title: null, sort: Object.values(SCENARIO_LABEL), axis: { labelAngle: 0, labelLimit: 200 } },
        xOffset: { field: 'target', sort: ['dropship', 'companion'] },
        color: { field: 'target', sort: ['dropship', 'companion'], title: null },
      },
      layer: [
        { mark: { type: 'point', filled: true, size: 90 }, encoding: { y: { field: 'p99', type: 'quantitative', title: 'ms', scale: { type: 'log' } } } },
        { mark: { type: 'point', filled: false, size: 90 }, encoding: { y: { field: 'p50', type: 'quantitative' } } },
        { mark: { type: 'rule' }, encoding: { y: { field: 'p99min', type: 'quantitative' }, y2: { field: 'p99max' } } },
        { data: { values: [{ y: 25 }] }, mark: { type: 'rule', color: 'red', strokeDash: [4, 3] }, encoding: { y: { field: 'y', type: 'quantitative' }, x: null, xOffset: null, color: null } },
      ],
    } as TopLevelSpec,
    join(outDir, 'signing-latency.png'),
  );
  md.push('![signing](signing.png) ![latency](signing-latency.png)', '');
  return { md, targets };
}

// ---------------------------------------------------------------------------------------
// 3. status

function statusSection(s: StatusResults): Section {
  const md: string[] = [];
  md.push('## 3. Status queries', '');
  md.push(
    `GET /v1/drops/:id over ${s.drops} ready drops (rotating ids), autocannon ${s.connections} connections × ${s.duration} s, ${s.runs.length} run(s). ` +
      `Drops made ready by: ${s.readyBy}. Each GET reads the manifest from S3 (no cache), so the emulator is in the loop.`,
    '',
  );
  md.push('| req/s | p50 ms | p99 ms | api CPU ms per request | non-2xx / errors |', '|---|---|---|---|---|');
  md.push(
    `| ${fmt(spread(s.runs.map((r) => r.result.reqPerSec)))} | ${fmt(spread(s.runs.map((r) => r.result.p50)))} | ${fmt(spread(s.runs.map((r) => r.result.p99)))} | ` +
      `${fmt(spread(s.runs.map((r) => (1000 * r.serverCpuSeconds) / Math.max(1, r.result.ok))))} | ${s.runs.reduce((a, r) => a + r.result.non2xx, 0)} / ${s.runs.reduce((a, r) => a + r.result.errors, 0)} |`,
  );
  md.push('');
  const rps = spread(s.runs.map((r) => r.result.reqPerSec));
  return {
    md,
    targets: [
      {
        id: 'status',
        what: 'status queries (GET /v1/drops/:id, ready drops)',
        target: '(reported; no budget)',
        measured: `${fmt(rps, 'req/s')}, p99 ${fmt(spread(s.runs.map((r) => r.result.p99)), 'ms')}`,
        pass: undefined,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------
// 4. thumbnails

const KINDS = ['worker', 'plain sharp, clone per width', 'plain sharp, decode once'];

async function thumbnailSection(t: ThumbnailResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  const targets: Target[] = [];
  md.push('## 4. Thumbnails', '');
  md.push(
    `${t.width}×${t.height} (12 MP) JPEGs, ${t.jpegBytes.map((b) => `${num(b / MIB)} MiB`).join(', ')}; widths ${t.widths.join(' + ')} WebP. ` +
      `Latency: ${t.latency.length} images one at a time through ticket → PUT → complete with one idle worker process (warmed with one image first); ` +
      'complete→ready = `readyAt` in the manifest minus the moment complete was sent. ' +
      `Throughput: images queued with no worker running, then 1 or 2 worker processes (${t.workerConcurrency} messages each) started; ` +
      'every S3 GET/PUT, SQS call and manifest write is inside. Images/s are given at steady state — (images − in flight) ÷ (last done − the in-flight-th done), ' +
      'the same formula for worker and plain sharp, leaving out start-up and the first round — and, for the worker, also from the first worker polling to the last `readyAt`. ' +
      'Plain sharp: the same JPEG buffers in this (otherwise idle) process, the same number of images in flight, libvips cache off, run right before each worker run, ' +
      'written two ways — the idiomatic `rotate()` + one `clone()` per width (each decodes the JPEG), and decode-once (shrink to the largest width into raw pixels, ' +
      'encode each width from them, which is what the worker does); the worker is compared with the faster of the two in the same repetition.',
    '',
  );
  const lat = t.latency.map((l) => l.completeToReadyMs);
  md.push('| complete → ready | p50 ms | p95 ms | min ms | max ms | thumbnails |', '|---|---|---|---|---|---|');
  const s = spread(lat);
  const thumbs = [...new Set(t.latency.map((l) => l.thumbnail))].join(', ');
  md.push(`| ${t.latency.length} images | ${num(t.latencyP50)} | ${num(t.latencyP95)} | ${num(s.min)} | ${num(s.max)} | ${thumbs} |`);
  md.push('');
  targets.push({ id: 'thumb-p50', what: 'complete → ready, 12 MP JPEG, p50', target: '< 1.5 s', measured: `${num(t.latencyP50)} ms`, pass: lat.length ? t.latencyP50 < 1500 : undefined });
  targets.push({ id: 'thumb-p95', what: 'complete → ready, 12 MP JPEG, p95', target: '< 3 s', measured: `${num(t.latencyP95)} ms`, pass: lat.length ? t.latencyP95 < 3000 : undefined });

  md.push(
    '| worker processes | images in flight | worker images/s, steady | worker images/s, from its start | plain sharp, clone per width | plain sharp, decode once | worker ÷ faster plain sharp |',
    '|---|---|---|---|---|---|---|',
  );
  const rows: { label: string; kind: string; median: number; min: number; max: number }[] = [];
  const cpuRows: string[] = [];
  for (const processes of [1, 2]) {
    const w = t.throughput.filter((r) => r.kind === 'worker' && r.processes === processes);
    if (!w.length) continue;
    const plainOf = (kind: string) => t.throughput.filter((r) => r.kind === kind && r.processes === processes);
    // Per repetition, the faster of the two plain-sharp variants run right before the worker.
    const best = w.map((r) => ({
      rep: r.rep,
      steadyImagesPerSecond: Math.max(
        ...t.throughput.filter((p) => p.kind !== 'worker' && p.processes === processes && p.rep === r.rep).map((p) => p.steadyImagesPerSecond),
      ),
    }));
    const ratio = pairedRatio(w, best, (r) => String(r.rep), (r) => r.steadyImagesPerSecond);
    const ws = spread(w.map((r) => r.steadyImagesPerSecond));
    const wStart = spread(w.map((r) => r.imagesPerSecond));
    const cs = spread(plainOf('sharp-clone').map((r) => r.steadyImagesPerSecond));
    const ds = spread(plainOf('sharp-decode-once').map((r) => r.steadyImagesPerSecond));
    const bs = spread(best.map((r) => r.steadyImagesPerSecond));
    md.push(`| ${processes} | ${w[0]!.inFlight} | ${fmt(ws)} | ${fmt(wStart)} | ${fmt(cs)} | ${fmt(ds)} | ${fmt(ratio, '×')} |`);
    const wCpu = spread(w.map((r) => (r.cpuPerImage ?? NaN) * 1000));
    const eCpu = spread(w.map((r) => (r.emulatorCpuPerImage ?? NaN) * 1000));
    const dCpu = spread(plainOf('sharp-decode-once').map((r) => (r.cpuPerImage ?? NaN) * 1000));
    if (wCpu.n && dCpu.n) {
      targets.push({
        id: `thumb-cpu-${processes}`,
        what: `CPU per image, ${processes} worker process${processes > 1 ? 'es' : ''} vs plain sharp decode-once (why the throughput differs)`,
        target: '(reported)',
        measured: `worker ${fmt(wCpu, 'ms')}${eCpu.n ? ` + emulator ${fmt(eCpu, 'ms')}` : ''}; plain sharp ${fmt(dCpu, 'ms')}`,
        ratio: `${num(wCpu.median / dCpu.median)}×${eCpu.n ? ` (${num((wCpu.median + eCpu.median) / dCpu.median)}× with the emulator)` : ''}`,
        pass: undefined,
      });
    }
    cpuRows.push(
      `| ${processes} | ${fmt(spread(w.map((r) => (r.cpuPerImage ?? NaN) * 1000)))} | ${fmt(spread(w.map((r) => (r.emulatorCpuPerImage ?? NaN) * 1000)))} | ` +
        `${fmt(spread(plainOf('sharp-clone').map((r) => (r.cpuPerImage ?? NaN) * 1000)))} | ${fmt(spread(plainOf('sharp-decode-once').map((r) => (r.cpuPerImage ?? NaN) * 1000)))} |`,
    );
    const label = `${processes} process${processes > 1 ? 'es' : ''}, ${w[0]!.inFlight} in flight`;
    rows.push({ label, kind: 'worker', ...ws }, { label, kind: 'plain sharp, clone per width', ...cs }, { label, kind: 'plain sharp, decode once', ...ds });
    targets.push({
      id: `thumb-throughput-${processes}`,
      what: `thumbnail throughput, ${processes} worker process${processes > 1 ? 'es' : ''} vs plain sharp (steady state)`,
      target: '≥ 0.8× plain sharp',
      measured: `worker ${fmt(ws, 'images/s')}; plain sharp (faster variant) ${fmt(bs, 'images/s')}`,
      ratio: fmt(ratio, '×'),
      pass: ratio.n ? ratio.median >= 0.8 : undefined,
    });
  }
  md.push('');
  if (cpuRows.length && t.throughput.some((r) => r.cpuPerImage !== undefined)) {
    md.push('Where the CPU goes, ms of CPU per image (the workers\' processes from /proc; the emulator = the LocalStack process during the worker run; plain sharp = this process):', '');
    md.push('| worker processes | worker | emulator (S3 + SQS) | plain sharp, clone per width | plain sharp, decode once |', '|---|---|---|---|---|', ...cpuRows, '');
  }
  await renderPng(
    {
      title: { text: 'Thumbnails of 12 MP JPEGs: worker vs plain sharp', subtitle: 'steady-state images/s, median, whiskers min–max; same images, same run' },
      data: { values: rows },
      width: 360,
      height: 240,
      encoding: {
        x: { field: 'label', type: 'nominal', title: null, axis: { labelAngle: 0, labelLimit: 300 } },
        xOffset: { field: 'kind', sort: KINDS },
        color: { field: 'kind', title: null, sort: KINDS, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400 } },
      },
      layer: [
        { mark: 'bar', encoding: { y: { field: 'median', type: 'quantitative', title: 'images / s' } } },
        { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
      ],
    } as TopLevelSpec,
    join(outDir, 'thumbnails.png'),
  );
  await renderPng(
    {
      title: { text: 'complete → ready, one 12 MP JPEG at a time', subtitle: 'each dot one image; dashed: p50 and p95 budgets (1.5 s, 3 s)' },
      width: 380,
      height: 160,
      layer: [
        {
          data: { values: lat.map((ms, i) => ({ ms, i: i + 1 })) },
          mark: { type: 'point', filled: true, size: 60 },
          encoding: { x: { field: 'ms', type: 'quantitative', title: 'ms', scale: { domainMin: 0 } }, y: { field: 'i', type: 'ordinal', title: 'image', axis: null } },
        },
        {
          data: { values: [{ ms: 1500 }, { ms: 3000 }] },
          mark: { type: 'rule', color: 'red', strokeDash: [4, 3] },
          encoding: { x: { field: 'ms', type: 'quantitative' } },
        },
      ],
    } as TopLevelSpec,
    join(outDir, 'thumbnail-latency.png'),
  );
  md.push('![thumbnail throughput](thumbnails.png) ![thumbnail latency](thumbnail-latency.png)', '');
  return { md, targets };
}

// ---------------------------------------------------------------------------------------
// 5. memory

async function memorySection(m: MemoryResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  const targets: Target[] = [];
  const of = (size: number) => m.runs.filter((r) => r.size === size);
  md.push('## 5. Memory of the streaming route', '');
  md.push(
    'A fresh api process per body size and repetition; the body is generated on the fly and sent like `curl -T` (Content-Length, streamed). ' +
      `Peak RSS is VmHWM after a reset following a 20 MiB warm-up upload${m.peakResetWorked ? '' : ' (**the reset failed: peaks include start-up**)'}; ` +
      `idle RSS is the RSS right before the upload. Parts in flight: ${m.partsInFlight}, part size 8 MiB for these sizes.`,
    '',
  );
  md.push('| body | peak RSS MiB | idle RSS MiB | peak − idle MiB | MiB/s | api CPU s |', '|---|---|---|---|---|---|');
  for (const size of m.sizes) {
    const rs = of(size);
    md.push(
      `| ${sizeLabel(size)} | ${fmt(spread(rs.map((r) => mib(r.peakRssBytes))))} | ${fmt(spread(rs.map((r) => mib(r.idleRssBytes))))} | ` +
        `${fmt(spread(rs.map((r) => mib(r.peakRssBytes - r.idleRssBytes))))} | ${fmt(spread(rs.map((r) => r.mibPerSecond)))} | ${fmt(spread(rs.map((r) => r.cpuSeconds)))} |`,
    );
  }
  md.push('');
  const med = (size: number) => spread(of(size).map((r) => r.peakRssBytes)).median;
  const ref = med(m.sizes[0]!);
  const upTo2 = m.sizes.filter((s) => s <= 2 * GIB);
  const devs = upTo2.map((s) => med(s) / ref - 1);
  const worst = devs.reduce((a, d) => (Math.abs(d) > Math.abs(a) ? d : a), 0);
  targets.push({
    id: 'memory-flat',
    what: `streaming route peak RSS, ${sizeLabel(m.sizes[0]!)} → ${sizeLabel(Math.max(...upTo2))}`,
    target: `flat: every size within ±20 % of ${sizeLabel(m.sizes[0]!)}`,
    measured: upTo2.map((s) => `${sizeLabel(s)} ${num(mib(med(s)))} MiB`).join(', '),
    ratio: `worst ${worst >= 0 ? '+' : ''}${pct(worst)}`,
    pass: upTo2.length > 1 ? devs.every((d) => Math.abs(d) <= 0.2) : undefined,
  });
  if (m.sizes.includes(GIB) && m.sizes.includes(3 * GIB)) {
    // Paired by repetition: the 1 GiB and 3 GiB processes of the same repetition.
    const r = pairedRatio(of(3 * GIB), of(GIB), (x) => String(x.rep), (x) => x.peakRssBytes);
    targets.push({
      id: 'memory-1g-3g',
      what: 'streaming route peak RSS, 3 GiB vs 1 GiB (issue 6)',
      target: 'differ by < 20 %',
      measured: `1 GiB ${num(mib(med(GIB)))} MiB, 3 GiB ${num(mib(med(3 * GIB)))} MiB`,
      ratio: fmt(r, '×'),
      pass: r.n ? Math.abs(r.median - 1) < 0.2 : undefined,
    });
  }
  const rows = m.sizes.map((size) => {
    const p = spread(of(size).map((r) => mib(r.peakRssBytes)));
    const i = spread(of(size).map((r) => mib(r.idleRssBytes)));
    return { gib: size / GIB, label: sizeLabel(size), peak: p.median, min: p.min, max: p.max, idle: i.median };
  });
  await renderPng(
    {
      title: { text: 'Streaming route: api peak RSS vs body size', subtitle: `fresh api per size; median, whiskers min–max; band ±20 % of ${sizeLabel(m.sizes[0]!)}; grey: idle RSS` },
      width: 420,
      height: 260,
      layer: [
        {
          data: { values: [{ lo: (0.8 * ref) / MIB, hi: (1.2 * ref) / MIB }] },
          mark: { type: 'rect', color: '#2ca02c', opacity: 0.12 },
          encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
        },
        {
          data: { values: rows },
          layer: [
            {
              mark: { type: 'line', point: true },
              encoding: {
                x: {
                  field: 'gib',
                  type: 'quantitative',
                  scale: { type: 'log', domain: [Math.min(...rows.map((r) => r.gib)) / 1.5, Math.max(...rows.map((r) => r.gib)) * 1.5] },
                  axis: { values: rows.map((r) => r.gib), labelOverlap: false, labelExpr: "datum.value < 1 ? format(datum.value * 1024, 'd') + ' MiB' : datum.value + ' GiB'" },
                  title: 'body size (log scale)',
                },
                y: { field: 'peak', type: 'quantitative', title: 'RSS MiB', scale: { domainMin: 0 } },
              },
            },
            { mark: { type: 'rule' }, encoding: { x: { field: 'gib', type: 'quantitative' }, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
            { mark: { type: 'line', color: '#999', strokeDash: [4, 3] }, encoding: { x: { field: 'gib', type: 'quantitative' }, y: { field: 'idle', type: 'quantitative' } } },
          ],
        },
      ],
    } as TopLevelSpec,
    join(outDir, 'memory.png'),
  );
  const biggest = Math.max(...m.sizes);
  const timeline = m.runs.find((r) => r.size === biggest && r.rep === 1)?.timeline ?? [];
  await renderPng(
    {
      title: { text: `api RSS while streaming ${sizeLabel(biggest)}`, subtitle: 'sampled every 250 ms from /proc (repetition 1)' },
      data: { values: timeline.map(([t, rss]) => ({ t, rss: rss / MIB })) },
      width: 420,
      height: 200,
      mark: 'line',
      encoding: { x: { field: 't', type: 'quantitative', title: 'seconds' }, y: { field: 'rss', type: 'quantitative', title: 'RSS MiB', scale: { domainMin: 0 } } },
    } as TopLevelSpec,
    join(outDir, 'memory-timeline.png'),
  );
  md.push('![peak RSS vs size](memory.png) ![RSS over time](memory-timeline.png)', '');
  return { md, targets };
}

// ---------------------------------------------------------------------------------------

export async function writeReport(r: AllResults, outDir: string, opts: { quick: boolean; reps: number; only: string[] }): Promise<string> {
  const e = r.environment!;
  const sections: Section[] = [];
  if (r.upload) sections.push(await uploadSection(r.upload, outDir));
  if (r.signing) sections.push(await signingSection(r.signing, outDir));
  if (r.status) sections.push(statusSection(r.status));
  if (r.thumbnails) sections.push(await thumbnailSection(r.thumbnails, outDir));
  if (r.memory) sections.push(await memorySection(r.memory, outDir));
  const targets = sections.flatMap((s) => s.targets);

  const md: string[] = [];
  md.push(`# dropship benchmarks — ${e.startedAt.slice(0, 10)}${opts.quick ? ' (quick smoke run: small sizes, not for comparison)' : ''}`, '');
  md.push('```', e.command, '```', '');
  md.push('| | |', '|---|---|');
  md.push(`| machine | ${e.cores} cores (${e.cpuModel}), ${num(e.ramGiB)} GiB RAM, Linux ${e.kernel} — shared with other work while this ran |`);
  md.push(`| load average (1/5/15 min) | before ${e.loadBefore.map((x) => x.toFixed(2)).join(' / ')}; after ${(e.loadAfter ?? []).map((x) => x.toFixed(2)).join(' / ')} |`);
  md.push(`| node | ${e.node} |`);
  md.push(`| dropship | commit \`${e.commit}\`${e.dirtySrc.length ? `; ${e.dirtySrc.length} file(s) under src/ differed from it while this ran (work in progress in the shared tree): ${e.dirtySrc.slice(0, 12).map((f) => `\`${f}\``).join(', ')}${e.dirtySrc.length > 12 ? ', …' : ''}` : ' (clean src/)'} |`);
  if (e.productRoot) md.push(`| product code | **api and workers started from \`${e.productRoot}\`**, not from this checkout (A/B of a patch); the commit above is the bench's |`);
  md.push(`| emulator | LocalStack ${e.localstack} (host mode) at ${e.endpoint}, S3 signature validation on (proven in §2) |`);
  md.push(`| compared with | @uppy/companion ${e.companion}; @aws-sdk/lib-storage (AWS SDK v3 ${e.awsSdk}) |`);
  md.push(`| tools | autocannon ${e.autocannon}; sharp ${e.sharp} / libvips ${e.libvips}; plots: vega-lite → vega → SVG → sharp |`);
  md.push(`| run | ${opts.only.join(', ')}; ${opts.reps} repetition(s); ${e.wallMinutes ? `${num(e.wallMinutes)} minutes` : ''}; started ${e.startedAt} |`);
  md.push('');
  md.push(
    'Every figure is the **median over the repetitions, [min–max]**. Every comparison is a **ratio of runs made side by side** — same run, same emulator, ' +
      'interleaved — computed per repetition and summarised the same way. Each process under test (api, Companion, workers) ran as its own process: CPU seconds ' +
      'are the sum of its threads\' on-CPU time (`/proc/<pid>/task/*/schedstat`), peak RSS is `VmHWM` (`/proc/<pid>/status`), bytes received are `rchar` ' +
      '(`/proc/<pid>/io`: everything it read — sockets, the emulator\'s answers and files — so an upper bound). The machine is small and shared: absolute numbers ' +
      'move with the load around them; the ratios are what count.',
    '',
  );

  md.push('## Targets', '');
  md.push('| what | budget | measured | ratio | result |', '|---|---|---|---|---|');
  for (const t of targets) md.push(`| ${t.what} | ${t.target} | ${t.measured} | ${t.ratio ?? '—'} | ${passText(t.pass)} |`);
  for (const [suite, err] of Object.entries(r.errors)) md.push(`| ${suite} | — | **failed to run**: ${err.split('\n')[0]!.replace(/\|/g, '\\|').slice(0, 300)} | — | **not measured** |`);
  md.push('');
  const notesFile = join(outDir, 'notes.md');
  md.push('Why a budget was missed, by how much, and what would close it: [Notes](#notes) at the end.', '');

  for (const s of sections) md.push(...s.md);
  if (Object.keys(r.errors).length) {
    md.push('## Suites that failed', '');
    for (const [suite, err] of Object.entries(r.errors)) md.push(`### ${suite}`, '', '```', err.slice(0, 3000), '```', '');
  }
  // notes.md (next to the report, written after looking at the numbers) is the analysis;
  // `npm run bench -- --report-only` re-renders the report with it from raw/results.json.
  md.push('## Notes', '');
  md.push(existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : '_No analysis written for this run yet (notes.md)._\n');
  const file = join(outDir, 'report.md');
  writeFileSync(file, md.join('\n'));
  return file;
}
