/** §6 of report.md: webhook latency, ready → received. */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderPng } from '../plot.js';
import { fmt, spread } from '../stats.js';
import type { WebhookResults } from '../../suites/webhooks.js';
import type { Section } from './common.js';

export async function webhookSection(w: WebhookResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  md.push('## 6. Webhooks: ready → received', '');
  md.push(
    'One worker process, one receiver on 127.0.0.1 answering 204; a drop every 200 ms (manifest, then the bytes, so the S3 notification fires). ' +
      'Latency: the manifest\'s `readyAt` to the receiver having the signed `drop.ready` (enqueue on the deliveries queue, the delivery consumer\'s long poll, signing, the POST).',
    '',
  );
  md.push('| drops | received | p50 ms | p95 ms | max ms | bad signatures |', '|---|---|---|---|---|---|');
  const sum = (f: (r: WebhookResults['runs'][number]) => number) => w.runs.reduce((a, r) => a + f(r), 0);
  md.push(
    `| ${sum((r) => r.count)} | ${sum((r) => r.received)} | ${fmt(spread(w.runs.map((r) => r.p50)))} | ${fmt(spread(w.runs.map((r) => r.p95)))} | ` +
      `${fmt(spread(w.runs.map((r) => r.max)))} | ${sum((r) => r.badSignatures)} |`,
  );
  md.push('');
  const points = w.runs.flatMap((r) => r.latenciesMs.map((ms) => ({ rep: `repetition ${r.rep}`, ms })));
  if (points.length) {
    await renderPng(
      {
        title: { text: 'Webhooks: ready → received, every event', subtitle: 'ms, log scale; red: the budgets (p50 1 s, p95 3 s)' },
        width: 420,
        height: 200,
        layer: [
          {
            data: { values: points },
            mark: { type: 'tick', thickness: 2 },
            encoding: { x: { field: 'ms', type: 'quantitative', title: 'ms', scale: { type: 'log' } }, y: { field: 'rep', type: 'nominal', title: null } },
          },
          {
            data: { values: [{ ms: 1000 }, { ms: 3000 }] },
            mark: { type: 'rule', color: 'red', strokeDash: [4, 3] },
            encoding: { x: { field: 'ms', type: 'quantitative' } },
          },
        ],
      } as TopLevelSpec,
      join(outDir, 'webhooks.png'),
    );
    md.push('![webhooks](webhooks.png)', '');
  }
  const p50 = spread(w.runs.map((r) => r.p50));
  const p95 = spread(w.runs.map((r) => r.p95));
  const lost = sum((r) => r.count - r.received);
  return {
    md,
    targets: [
      {
        id: 'webhooks',
        what: 'webhook delivery, ready → received',
        target: 'p50 < 1 s, p95 < 3 s (every event received, every signature valid)',
        measured: `p50 ${fmt(p50, 'ms')}, p95 ${fmt(p95, 'ms')}; ${sum((r) => r.received)} of ${sum((r) => r.count)} received, ${sum((r) => r.badSignatures)} bad signatures`,
        pass: p50.n ? p50.median < 1000 && p95.median < 3000 && lost === 0 && sum((r) => r.badSignatures) === 0 : undefined,
      },
    ],
  };
}
