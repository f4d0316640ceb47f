/** §8 of report.md: the retention sweep — cost per expired drop with a small and a large bucket. */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderPng } from '../plot.js';
import { fmt, num, spread, type Target } from '../stats.js';
import type { SweepResults, SweepRun } from '../../suites/sweep.js';
import { pairedRatio, type Section } from './common.js';

const cpuMs = (r: SweepRun) => (1000 * r.cpuSeconds) / r.expired;
const netMs = (r: SweepRun) => (1000 * r.netCpuSeconds) / r.expired;
const calls = (r: SweepRun) => r.s3Calls / r.expired;

export async function sweepSection(s: SweepResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  const targets: Target[] = [];
  const of = (live: number) => s.runs.filter((r) => r.live === live);
  const [small, large] = [Math.min(...s.sizes), Math.max(...s.sizes)];
  md.push('## 8. Retention sweep: cost per expired drop vs live drops in the bucket', '');
  md.push(
    `One worker process (\`src/worker/main.ts\`, its queue drained, \`DROPSHIP_SWEEP_INTERVAL=1\`) per bucket size, its S3 endpoint a counting proxy in front of the emulator ` +
      `(the proxy is the bench's own CPU, not the worker's). ${s.sizes.map((n) => num(n)).join(' and ')} live drops (expiring in a day), then ${s.expired} expired drops per measurement, ` +
      `all seeded through the ports — expiry marker, key-index entry, manifest (ready), the bytes — ${s.seedConcurrency} writes in flight. ` +
      'The expired drops are written live and without markers (the worker handles their upload notifications), their manifests then rewritten as expired five minutes ago; ' +
      'the worker\'s idle rate is measured for a few seconds; right after an idle sweep the worker is paused (SIGSTOP), the markers written and the worker resumed, so one sweep finds them all. ' +
      'The window runs from the resume to the end of that sweep (its listing of the collection index); CPU is the worker\'s from /proc, whole and net of its idle rate over the window. ' +
      `The live drops were seeded incrementally (${s.seeding.map((p) => `${num(p.added)} in ${num(p.seconds)} s`).join(', then ')}), so the sizes ran one after the other, not interleaved ` +
      `(a warm-up round first for each worker, except with --quick). ` +
      `Afterwards every expired drop had no object left and no due marker, and ${s.liveIntact.map((l) => `${num(l.intact)}/${num(l.live)}`).join(', ')} live drops kept all four objects.`,
    '',
  );
  md.push('| live drops | expired | sweep s | worker CPU ms per expired drop | net of idle | idle ms/s | S3 calls per expired drop | calls by operation (all runs) | median emulator answer ms: list / get / delete |', '|---|---|---|---|---|---|---|---|---|');
  for (const live of s.sizes) {
    const rs = of(live);
    const opsSum: Record<string, number> = {};
    for (const r of rs) for (const [op, c] of Object.entries(r.ops)) opsSum[op] = (opsSum[op] ?? 0) + c;
    md.push(
      `| ${num(live)} | ${s.expired} | ${fmt(spread(rs.map((r) => r.sweepSeconds)))} | ${fmt(spread(rs.map(cpuMs)))} | ${fmt(spread(rs.map(netMs)))} | ` +
        `${fmt(spread(rs.map((r) => 1000 * r.idleCpuRate)))} | ${fmt(spread(rs.map(calls)))} | ${Object.entries(opsSum).map(([op, c]) => `${op} ${c}`).join(', ')} | ` +
        `${['ListObjectsV2', 'GetObject', 'DeleteObjects'].map((op) => num(spread(rs.map((r) => r.latencyMs?.[op] ?? NaN)).median)).join(' / ')} |`,
    );
  }
  md.push('');
  md.push(
    'The whole figure counts everything the worker burned from the resume to the end of the sweep — its idle background too, over a window that is as long as the ' +
      'emulator takes to answer; the net figure subtracts the idle rate measured just before. The emulator\'s answer times (last column) are the emulator\'s, ' +
      'not dropship\'s: LocalStack keeps a bucket in one process, and a bigger bucket can slow its listings; against S3 they do not depend on the bucket\'s size. ' +
      `Seeding ${num(Math.max(...s.sizes))} live drops (4 objects each, every \`original\` raising an S3 notification in the emulator) is most of this suite's time: ` +
      `${s.seeding.map((p) => `${num(p.added / p.seconds)} drops/s`).join(', ')} here.`,
    '',
  );
  const key = (r: SweepRun) => String(r.rep);
  const cpuRatio = pairedRatio(of(large), of(small), key, cpuMs);
  const callRatio = pairedRatio(of(large), of(small), key, calls);
  const netRatio = pairedRatio(of(large), of(small), key, netMs);
  targets.push({
    id: 'sweep',
    what: `sweep: cost per expired drop, ${num(small)} → ${num(large)} live drops`,
    target: 'CPU and S3 calls per expired drop flat (≤ 1.2× each)',
    measured: `CPU ${fmt(spread(of(large).map(cpuMs)), 'ms')} vs ${fmt(spread(of(small).map(cpuMs)), 'ms')}; S3 calls ${fmt(spread(of(large).map(calls)))} vs ${fmt(spread(of(small).map(calls)))}`,
    ratio: `CPU ${fmt(cpuRatio, '×')}, S3 calls ${fmt(callRatio, '×')}`,
    pass: cpuRatio.n && callRatio.n ? cpuRatio.median <= 1.2 && callRatio.median <= 1.2 : false,
  });
  targets.push({
    id: 'sweep-net',
    what: `sweep: CPU per expired drop net of idle, ${num(small)} → ${num(large)} live drops`,
    target: '(variant; no budget)',
    measured: `${fmt(spread(of(large).map(netMs)), 'ms')} vs ${fmt(spread(of(small).map(netMs)), 'ms')}`,
    ratio: fmt(netRatio, '×'),
    pass: undefined,
  });
  const rows = s.sizes.flatMap((live) =>
    (
      [
        ['worker CPU ms per expired drop', cpuMs],
        ['S3 calls per expired drop', calls],
      ] as const
    ).map(([metric, f]) => {
      const v = spread(of(live).map(f));
      return { metric, live: `${num(live)} live`, median: v.median, min: v.min, max: v.max };
    }),
  );
  const panel = (metric: string) => ({
    title: metric,
    width: 200,
    height: 200,
    transform: [{ filter: { field: 'metric', equal: metric } }],
    layer: [
      { mark: { type: 'bar', color: '#4c78a8' }, encoding: { x: { field: 'live', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } }, y: { field: 'median', type: 'quantitative', title: null, scale: { domainMin: 0 } } } },
      { mark: { type: 'rule' }, encoding: { x: { field: 'live', type: 'nominal', sort: null }, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
    ],
  });
  await renderPng(
    {
      title: { text: 'Retention sweep: cost per expired drop', subtitle: `${s.expired} expired drops per sweep; median, whiskers min–max` },
      data: { values: rows },
      hconcat: ['worker CPU ms per expired drop', 'S3 calls per expired drop'].map(panel),
    } as TopLevelSpec,
    join(outDir, 'sweep.png'),
  );
  md.push('![cost per expired drop at both sizes](sweep.png)', '');
  return { md, targets };
}
