/**
 * report.md and its plots, from the raw results. Every figure is a median over the
 * repetitions with [min–max]; every ratio is computed per repetition from runs made side by
 * side (same run, same emulator) and then summarised the same way.
 *
 * This file assembles report.md: the header (command, machine, versions), the Targets table
 * gathered from every section, the sections themselves (one file each in this folder), the
 * suites that failed, and notes.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '../machine.js';
import { num } from '../stats.js';
import type { UploadResults } from '../../suites/upload.js';
import type { SigningResults } from '../../suites/signing.js';
import type { StatusResults } from '../../suites/status.js';
import type { ThumbnailResults } from '../../suites/thumbnails.js';
import type { MemoryResults } from '../../suites/memory.js';
import type { WebhookResults } from '../../suites/webhooks.js';
import type { SseResults } from '../../suites/sse.js';
import type { SweepResults } from '../../suites/sweep.js';
import type { ListingResults } from '../../suites/listing.js';
import type { ReplicasResults } from '../../suites/replicas.js';
import type { Section } from './common.js';
import { uploadSection } from './upload.js';
import { signingSection } from './signing.js';
import { statusSection } from './status.js';
import { thumbnailSection } from './thumbnails.js';
import { memorySection } from './memory.js';
import { webhookSection } from './webhooks.js';
import { sseSection } from './sse.js';
import { sweepSection } from './sweep.js';
import { listingSection } from './listing.js';
import { replicasSection } from './replicas.js';

export interface AllResults {
  environment?: Environment;
  upload?: UploadResults;
  signing?: SigningResults;
  status?: StatusResults;
  thumbnails?: ThumbnailResults;
  memory?: MemoryResults;
  webhooks?: WebhookResults;
  sse?: SseResults;
  sweep?: SweepResults;
  listing?: ListingResults;
  replicas?: ReplicasResults;
  errors: Record<string, string>;
}

/** The budgets, in docs/benchmarks.md's order: each is the `id` of the Target its suite returns. */
export const BUDGETS: { id: string; suite: string; what: string; budget: string }[] = [
  { id: 'sign-batch', suite: 'signing', what: '100-URL batch signing, 10 connections', budget: "≥ 5× Uppy Companion 6.2.2's batch route (URLs/s)" },
  { id: 'sign-p99', suite: 'signing', what: '100-URL batch p99, 10 connections', budget: '< 100 ms on 2 cores' },
  { id: 'ticket', suite: 'signing', what: 'ticket creation (1 GiB file)', budget: "≥ 1× Companion's create (req/s)" },
  { id: 'status', suite: 'status', what: 'status GET', budget: '≥ 0.8× raw GetObject of the manifest from the bench process (req/s)' },
  { id: 'sse-fanout', suite: 'sse', what: 'SSE: 300 watchers of one drop', budget: 'S3 reads/s ≤ 1.2× those of 1 watcher' },
  { id: 'listing', suite: 'listing', what: 'listing, key with 10,000 drops', budget: 'p50 ≤ 1.2× the same key in a bucket with 10× more drops of other keys' },
  { id: 'webhooks', suite: 'webhooks', what: 'webhook delivery, ready → received', budget: 'p50 < 1 s, p95 < 3 s' },
  { id: 'sweep', suite: 'sweep', what: 'sweep: CPU and S3 calls per expired drop', budget: 'flat from 1k to 10k live drops (≤ 1.2×)' },
  { id: 'worker-cpu', suite: 'thumbnails', what: 'worker CPU per 12 MP image', budget: '≤ 1.1× plain sharp decode-once (the emulator reported apart)' },
  { id: 'memory-flat', suite: 'memory', what: 'curl route peak RSS, 64 MiB → 2 GiB', budget: 'flat ±20 %' },
  { id: 'replicas', suite: 'replicas', what: 'two api replicas + Redis, ticket req/s', budget: '≥ 1.6× one replica without Redis' },
];

const passText = (p: boolean | undefined) => (p === undefined ? 'n/a' : p ? '**pass**' : '**MISS**');

export async function writeReport(r: AllResults, outDir: string, opts: { quick: boolean; reps: number; only: string[] }): Promise<string> {
  const e = r.environment!;
  const sections: Section[] = [];
  if (r.upload) sections.push(await uploadSection(r.upload, outDir));
  if (r.signing) sections.push(await signingSection(r.signing, outDir));
  if (r.status) sections.push(await statusSection(r.status, outDir));
  if (r.thumbnails) sections.push(await thumbnailSection(r.thumbnails, outDir));
  if (r.memory) sections.push(await memorySection(r.memory, outDir));
  if (r.webhooks) sections.push(await webhookSection(r.webhooks, outDir));
  if (r.sse) sections.push(await sseSection(r.sse, outDir));
  if (r.sweep) sections.push(await sweepSection(r.sweep, outDir));
  if (r.listing) sections.push(await listingSection(r.listing, outDir));
  if (r.replicas) sections.push(await replicasSection(r.replicas, outDir));
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

  md.push('## Budgets', '');
  md.push(
    'Exactly the budgets of docs/benchmarks.md, in its order. A figure below its budget is **MISS**; a row no suite measured in this run says so. ' +
      'Variants and other figures follow in their own table and are never counted as a pass.',
    '',
  );
  md.push('| # | what | budget | measured | ratio | result |', '|---|---|---|---|---|---|');
  const byId = new Map(targets.map((t) => [t.id, t]));
  BUDGETS.forEach((b, i) => {
    const t = byId.get(b.id);
    if (t) {
      const result = t.pass === undefined ? `**not measured as specified**${t.note ? `: ${t.note}` : ''}` : passText(t.pass);
      md.push(`| ${i + 1} | ${t.what} | ${t.target} | ${t.measured} | ${t.ratio ?? '—'} | ${result} |`);
    }
    else md.push(`| ${i + 1} | ${b.what} | ${b.budget} | not measured in this run (suite \`${b.suite}\`${r.errors[b.suite] ? ' failed' : ' not run'}) | — | **not measured** |`);
  });
  md.push('');
  const missed = BUDGETS.filter((b) => byId.get(b.id)?.pass === false).length;
  const passed = BUDGETS.filter((b) => byId.get(b.id)?.pass === true).length;
  md.push(`**${passed} of ${BUDGETS.length} budgets met, ${missed} missed${BUDGETS.length - passed - missed ? `, ${BUDGETS.length - passed - missed} not measured (as specified)` : ''}.**`, '');
  md.push('### Other figures (variants, the first round\'s budgets, proofs; not counted above)', '');
  md.push('| what | budget | measured | ratio | result |', '|---|---|---|---|---|');
  const budgetIds = new Set(BUDGETS.map((b) => b.id));
  for (const t of targets.filter((x) => !budgetIds.has(x.id))) md.push(`| ${t.what} | ${t.target} | ${t.measured} | ${t.ratio ?? '—'} | ${passText(t.pass)} |`);
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
