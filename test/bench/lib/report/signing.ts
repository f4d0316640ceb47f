/** §2 of report.md: signing and ticket creation, dropship vs Uppy Companion, and their plots. */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderPng } from '../plot.js';
import { MIB, fmt, num, spread, type Target } from '../stats.js';
import type { SigningResults, Scenario } from '../../suites/signing.js';
import { pairedRatio, type Section } from './common.js';

const SCENARIO_LABEL: Record<Scenario, string> = {
  single: '1 URL per request',
  batch: '100 URLs per request',
  'batch-1': '100 URLs per request, 1 connection',
  create: 'ticket creation (1 GiB file)',
  'create-first-batch': 'create + a 100-URL batch (Companion: 2 requests)',
};
const ALL_SCENARIOS: Scenario[] = ['single', 'batch', 'batch-1', 'create', 'create-first-batch'];

export async function signingSection(s: SigningResults, outDir: string): Promise<Section> {
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
  md.push(`| PUT of the last part (${num(s.proof.lastPartSize / 1024)} KiB, part ${s.proof.parts}) of a ${num(s.proof.dropSize / MIB)} MiB drop with | expected | got |`, '|---|---|---|');
  md.push(`| the URL as signed, exact size | 200 + ETag | ${p.accepted.status}${p.accepted.etag ? ' + ETag' : ''} |`);
  md.push(`| one character of X-Amz-Signature changed | 403 | ${p.tamperedSignature.status} ${p.tamperedSignature.code} |`);
  md.push(`| partNumber changed to another part's | 403 | ${p.tamperedPartNumber.status} ${p.tamperedPartNumber.code} |`);
  md.push(`| body one byte longer than signed | 403 | ${p.wrongSize.status} ${p.wrongSize.code} |`);
  md.push('');

  md.push('| route | server | req/s (tickets/s) | URLs/s | p50 ms | p99 ms | server CPU ms per request (ticket) | emulator CPU ms per request (ticket) | non-2xx / errors |');
  md.push('|---|---|---|---|---|---|---|---|---|');
  for (const scenario of ALL_SCENARIOS) {
    for (const target of ['dropship', 'companion']) {
      const rs = of(scenario, target);
      if (!rs.length) continue;
      const u = scenario.startsWith('create') ? 0 : rs[0]!.urlsPerRequest;
      md.push(
        `| ${SCENARIO_LABEL[scenario]} | ${target} | ${fmt(spread(rs.map((r) => r.result.reqPerSec)))} | ${u ? fmt(spread(rs.map((r) => r.result.reqPerSec * u))) : '—'} | ` +
          `${fmt(spread(rs.map((r) => r.result.p50)))} | ${fmt(spread(rs.map((r) => r.result.p99)))} | ` +
          `${fmt(spread(rs.map((r) => (1000 * r.serverCpuSeconds) / Math.max(1, r.result.ok))))} | ` +
          `${fmt(spread(rs.filter((r) => r.emulatorCpuSeconds !== undefined).map((r) => (1000 * r.emulatorCpuSeconds!) / Math.max(1, r.result.ok))))} | ${rs.reduce((a, r) => a + r.result.non2xx, 0)} / ${rs.reduce((a, r) => a + r.result.errors, 0)} |`,
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
    target: '< 100 ms on 2 cores',
    measured: fmt(p99, 'ms'),
    pass: p99.n ? p99.median < 100 : undefined,
  });
  const one = of('batch-1', 'dropship');
  if (one.length) {
    const p99one = spread(one.map((r) => r.result.p99));
    targets.push({
      id: 'sign-p99-1',
      what: '100-URL batch p99 latency (dropship, 1 connection; a variant, not counted)',
      target: '(reported)',
      measured: `${fmt(p99one, 'ms')} (p50 ${fmt(spread(one.map((r) => r.result.p50)), 'ms')}); Companion ${fmt(spread(of('batch-1', 'companion').map((r) => r.result.p99)), 'ms')}`,
      pass: undefined,
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
  const perReq = (scenario: Scenario, target: string, field: 'serverCpuSeconds' | 'emulatorCpuSeconds') =>
    spread(of(scenario, target).filter((r) => r[field] !== undefined).map((r) => (1000 * r[field]!) / Math.max(1, r.result.ok)));
  const create = ratio('create');
  targets.push({
    id: 'ticket',
    what: 'ticket creation req/s (1 GiB file)',
    target: '≥ 1× Companion',
    measured:
      `dropship ${fmt(spread(of('create', 'dropship').map((r) => r.result.reqPerSec)), 'req/s')}, p99 ${fmt(spread(of('create', 'dropship').map((r) => r.result.p99)), 'ms')}; Companion ${fmt(spread(of('create', 'companion').map((r) => r.result.reqPerSec)), 'req/s')}, p99 ${fmt(spread(of('create', 'companion').map((r) => r.result.p99)), 'ms')}. ` +
      `CPU per ticket, server + emulator: dropship ${fmt(perReq('create', 'dropship', 'serverCpuSeconds'), 'ms')} + ${fmt(perReq('create', 'dropship', 'emulatorCpuSeconds'), 'ms')}; Companion ${fmt(perReq('create', 'companion', 'serverCpuSeconds'), 'ms')} + ${fmt(perReq('create', 'companion', 'emulatorCpuSeconds'), 'ms')}`,
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
      title: { text: 'Latency by route (log scale)', subtitle: "median of the runs' p50 (open) and p99 (filled), whiskers: min–max of p99; red: the 100 ms budget of the 100-URL batch at 10 connections" },
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
        { data: { values: [{ y: 100 }] }, mark: { type: 'rule', color: 'red', strokeDash: [4, 3] }, encoding: { y: { field: 'y', type: 'quantitative' }, x: null, xOffset: null, color: null } },
      ],
    } as TopLevelSpec,
    join(outDir, 'signing-latency.png'),
  );
  md.push('![signing](signing.png) ![latency](signing-latency.png)', '');
  return { md, targets };
}
