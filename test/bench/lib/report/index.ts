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
import type { ListingResults } from '../../suites/listing.js';
import type { ReplicasResults } from '../../suites/replicas.js';
import type { Section } from './common.js';
import { uploadSection } from './upload.js';
import { signingSection } from './signing.js';
import { statusSection } from './status.js';
import { thumbnailSection } from './thumbnails.js';
import { memorySection } from './memory.js';
import { webhookSection } from './webhooks.js';
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
  listing?: ListingResults;
  replicas?: ReplicasResults;
  errors: Record<string, string>;
}

const passText = (p: boolean | undefined) => (p === undefined ? 'n/a' : p ? '**pass**' : '**MISS**');

export async function writeReport(r: AllResults, outDir: string, opts: { quick: boolean; reps: number; only: string[] }): Promise<string> {
  const e = r.environment!;
  const sections: Section[] = [];
  if (r.upload) sections.push(await uploadSection(r.upload, outDir));
  if (r.signing) sections.push(await signingSection(r.signing, outDir));
  if (r.status) sections.push(statusSection(r.status));
  if (r.thumbnails) sections.push(await thumbnailSection(r.thumbnails, outDir));
  if (r.memory) sections.push(await memorySection(r.memory, outDir));
  if (r.webhooks) sections.push(webhookSection(r.webhooks));
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
