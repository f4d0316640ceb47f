/** §7 of report.md: server-sent events fan-out — S3 reads with 1 and 300 watchers of one drop. */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderPng } from '../plot.js';
import { fmt, num, spread, type Target } from '../stats.js';
import type { SseResults } from '../../suites/sse.js';
import { mib, pairedRatio, type Section } from './common.js';

export async function sseSection(s: SseResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  const targets: Target[] = [];
  const of = (n: number) => s.runs.filter((r) => r.watchers === n);
  const [low, high] = [Math.min(...s.watcherCounts), Math.max(...s.watcherCounts)];
  const seconds = s.runs[0]?.seconds ?? NaN;
  md.push('## 7. Server-sent events: one drop, many watchers', '');
  md.push(
    `The api as its own process, its S3 endpoint (AWS_ENDPOINT_URL) a counting proxy in front of the emulator (every request forwarded unchanged, ` +
      `counted by operation; the proxy is the bench's own CPU, not the api's). ${s.watcherCounts.join(' and ')} watchers of one drop on ` +
      '`GET /v1/drops/:id/events` from 127.0.0.1 (anonymous; `DROPSHIP_EVENT_STREAMS` and `DROPSHIP_EVENT_STREAMS_PER_CLIENT` raised to 1,000), ' +
      `\`DROPSHIP_EVENT_POLL_MS\` ${s.pollMs} (the default). Per run a fresh drop; once every watcher has its first event, a ${num(seconds)} s window starts ` +
      'right after one of the poll\'s manifest reads (whole seconds plus half a poll, so each run counts the same number of polls unless something reads more); ' +
      'halfway through it the bench completes the upload (→ `processing`), after it marks the drop ready. Every watcher must get both changes and have its ' +
      'stream ended by the server (ready is terminal), or the suite fails. The watcher counts alternate which goes first per repetition.',
    '',
  );
  md.push('| watchers | manifest reads | S3 reads/s | all S3 requests in the window | api CPU ms/s | api RSS MiB | got processing / ready / ended | ready → last watcher ms |', '|---|---|---|---|---|---|---|---|');
  for (const n of s.watcherCounts) {
    const rs = of(n);
    const opsSum: Record<string, number> = {};
    for (const r of rs) for (const [op, c] of Object.entries(r.ops)) opsSum[op] = (opsSum[op] ?? 0) + c;
    const total = (f: (r: SseResults['runs'][number]) => number) => rs.reduce((a, r) => a + f(r), 0);
    md.push(
      `| ${n} | ${fmt(spread(rs.map((r) => r.manifestReads)))} | ${fmt(spread(rs.map((r) => r.readsPerSecond)))} | ` +
        `${Object.entries(opsSum).map(([op, c]) => `${op} ${c}`).join(', ') || '—'} (${rs.length} runs) | ` +
        `${fmt(spread(rs.map((r) => (1000 * r.cpuSeconds) / r.seconds)))} | ${fmt(spread(rs.map((r) => mib(r.rssBytes))))} | ` +
        `${total((r) => r.gotProcessing)} / ${total((r) => r.gotReady)} / ${total((r) => r.endedByServer)} of ${total((r) => r.watchers)} | ` +
        `${fmt(spread(rs.map((r) => r.readyFanOutMs)))} |`,
    );
  }
  md.push('');
  const ratio = pairedRatio(of(high), of(low), (r) => String(r.rep), (r) => r.readsPerSecond);
  const allGot = s.runs.every((r) => r.gotProcessing === r.watchers && r.gotReady === r.watchers && r.endedByServer === r.watchers);
  targets.push({
    id: 'sse-fanout',
    what: `SSE: ${high} watchers of one drop`,
    target: `S3 reads/s ≤ 1.2× ${low} watcher, every watcher gets every change`,
    measured: `${fmt(spread(of(high).map((r) => r.readsPerSecond)), '/s')} vs ${fmt(spread(of(low).map((r) => r.readsPerSecond)), '/s')}${allGot ? '; all events delivered' : '; **events lost**'}`,
    ratio: fmt(ratio, '×'),
    pass: ratio.n ? ratio.median <= 1.2 && allGot : false,
  });
  targets.push({
    id: 'sse-fanout-cost',
    what: `SSE: api cost holding ${high} watchers`,
    target: '(reported; no budget)',
    measured: `CPU ${fmt(spread(of(high).map((r) => (1000 * r.cpuSeconds) / r.seconds)), 'ms/s')} (${low}: ${fmt(spread(of(low).map((r) => (1000 * r.cpuSeconds) / r.seconds)), 'ms/s')}), RSS ${fmt(spread(of(high).map((r) => mib(r.rssBytes))), 'MiB')}`,
    pass: undefined,
  });
  const rows = s.watcherCounts.map((n) => {
    const v = spread(of(n).map((r) => r.readsPerSecond));
    return { watchers: `${n} watcher${n === 1 ? '' : 's'}`, median: v.median, min: v.min, max: v.max };
  });
  const budget = 1.2 * (rows[0]?.median ?? NaN);
  await renderPng(
    {
      title: { text: 'SSE fan-out: the api\'s S3 reads of the watched drop', subtitle: `manifest GETs/s over ${num(seconds)} s; median, whiskers min–max; red: 1.2× the ${low}-watcher rate` },
      width: 420,
      height: 220,
      layer: [
        {
          data: { values: rows },
          layer: [
            { mark: { type: 'bar', color: '#4c78a8' }, encoding: { x: { field: 'watchers', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } }, y: { field: 'median', type: 'quantitative', title: 'S3 reads / s', scale: { domainMin: 0 } } } },
            { mark: { type: 'rule' }, encoding: { x: { field: 'watchers', type: 'nominal', sort: null }, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
          ],
        },
        { data: { values: [{ y: budget }] }, mark: { type: 'rule', color: 'red', strokeDash: [4, 3] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      ],
    } as TopLevelSpec,
    join(outDir, 'sse.png'),
  );
  md.push('![S3 reads/s with 1 and 300 watchers](sse.png)', '');
  return { md, targets };
}
