/** §6 of report.md: webhook latency, ready → received. */
import { fmt, spread } from '../stats.js';
import type { WebhookResults } from '../../suites/webhooks.js';
import type { Section } from './common.js';

export function webhookSection(w: WebhookResults): Section {
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
  return {
    md,
    targets: [
      {
        id: 'webhooks',
        what: 'webhook latency, ready → received',
        target: '(reported; no budget)',
        measured: `p50 ${fmt(spread(w.runs.map((r) => r.p50)), 'ms')}, p95 ${fmt(spread(w.runs.map((r) => r.p95)), 'ms')}`,
        pass: undefined,
      },
    ],
  };
}
