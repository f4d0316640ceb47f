/** §3 of report.md: status queries, against their ceiling (GetObject of the same manifests from the bench process). */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderPng } from '../plot.js';
import { fmt, spread } from '../stats.js';
import type { StatusResults } from '../../suites/status.js';
import { pairedRatio, type Section } from './common.js';

export async function statusSection(s: StatusResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  md.push('## 3. Status queries', '');
  md.push(
    `GET /v1/drops/:id over ${s.drops} ready drops (rotating ids), autocannon ${s.connections} connections × ${s.duration} s, ${s.runs.length} run(s). ` +
      `Drops made ready by: ${s.readyBy}. Each GET reads the manifest from S3 (no cache: a status must be current on every replica), so the emulator is in the loop. ` +
      `The ceiling, interleaved with it (order alternating per repetition): the same ${s.drops} manifests read with \`GetObject\` (body read to the end) by ${s.connections} loops in the bench process for the same time — the storage read a status GET cannot avoid, without HTTP, routing, the owner check or the answer's JSON.`,
    '',
  );
  md.push('| reader | req/s | p50 ms | p99 ms | api CPU ms per request | non-2xx / errors |', '|---|---|---|---|---|---|');
  md.push(
    `| GET /v1/drops/:id (api) | ${fmt(spread(s.runs.map((r) => r.result.reqPerSec)))} | ${fmt(spread(s.runs.map((r) => r.result.p50)))} | ${fmt(spread(s.runs.map((r) => r.result.p99)))} | ` +
      `${fmt(spread(s.runs.map((r) => (1000 * r.serverCpuSeconds) / Math.max(1, r.result.ok))))} | ${s.runs.reduce((a, r) => a + r.result.non2xx, 0)} / ${s.runs.reduce((a, r) => a + r.result.errors, 0)} |`,
  );
  const raw = s.raw ?? [];
  if (raw.length) {
    md.push(
      `| GetObject from the bench process (ceiling) | ${fmt(spread(raw.map((r) => r.reqPerSec)))} | ${fmt(spread(raw.map((r) => r.p50)))} | ${fmt(spread(raw.map((r) => r.p99)))} | — | — / ${raw.reduce((a, r) => a + r.errors, 0)} |`,
    );
  }
  md.push('');
  const rps = spread(s.runs.map((r) => r.result.reqPerSec));
  const bars = [
    { reader: 'GET /v1/drops/:id (api)', ...spread(s.runs.map((r) => r.result.reqPerSec)) },
    ...(raw.length ? [{ reader: 'GetObject, bench process', ...spread(raw.map((r) => r.reqPerSec)) }] : []),
  ];
  await renderPng(
    {
      title: { text: 'Status reads: the api vs its ceiling', subtitle: `${s.connections} in flight × ${s.duration} s; req/s, median, whiskers min–max; same run, interleaved` },
      data: { values: bars },
      width: 300,
      height: 200,
      encoding: { x: { field: 'reader', type: 'nominal', title: null, axis: { labelAngle: 0, labelLimit: 200 } } },
      layer: [
        { mark: 'bar', encoding: { y: { field: 'median', type: 'quantitative', title: 'req/s' }, color: { field: 'reader', legend: null } } },
        { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
      ],
    } as TopLevelSpec,
    join(outDir, 'status.png'),
  );
  md.push('![status](status.png)', '');
  const api = s.runs.map((r): { rep: number; reqPerSec: number } => ({ rep: r.rep, reqPerSec: r.result.reqPerSec }));
  const ratio = pairedRatio(api, raw, (r) => String(r.rep), (r) => r.reqPerSec);
  return {
    md,
    targets: [
      {
        id: 'status',
        what: 'status GET (GET /v1/drops/:id, ready drops, 10 connections)',
        target: '≥ 0.8× raw `GetObject` of the manifest from the bench process',
        measured: `api ${fmt(rps, 'req/s')}, p99 ${fmt(spread(s.runs.map((r) => r.result.p99)), 'ms')}; GetObject ${fmt(spread(raw.map((r) => r.reqPerSec)), 'req/s')}`,
        ratio: fmt(ratio, '×'),
        pass: ratio.n ? ratio.median >= 0.8 : undefined,
      },
    ],
  };
}
