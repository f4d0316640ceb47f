/** §3 of report.md: status queries. */
import { fmt, spread } from '../stats.js';
import type { StatusResults } from '../../suites/status.js';
import type { Section } from './common.js';

export function statusSection(s: StatusResults): Section {
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
