/**
 * `npm run bench` — dropship's benchmarks. Not part of `npm test`: it measures,
 * prints and plots; it never gates on a time.
 *
 *   npm run bench                          everything (about 30 min on 2 cores)
 *   npm run bench -- --quick               small sizes, 1 repetition, short loads (smoke run)
 *   npm run bench -- --only upload,signing one or more of: upload, signing, status, thumbnails, memory, webhooks, sse, sweep, listing, replicas
 *   npm run bench -- --reps 5              repetitions (default 3; 1 with --quick)
 *   npm run bench -- --report-only         re-render report.md (+ notes.md) from raw/results.json
 *   npm run bench -- --product-root DIR    run the api and workers from another copy of the code
 *                                          (A/B of a patch; the bench itself stays this one)
 *
 * Writes bench/results/<YYYY-MM-DD>/report.md and PNG plots; raw data in its raw/ folder
 * (git-ignored). Only 127.0.0.1: the emulator (reused when running), the api, Companion and
 * the workers, each process under test in its own process so /proc can account for it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEmulator } from '../../localstack/emulator.js';
import { destroyAwsClients } from '../../src/aws/clients.js';
import { provision, provisionOptions } from '../../src/aws/provision.js';
import { BENCH_ROOT, benchAws, benchConfig, benchEnv, type BenchContext } from './lib/env.js';
import { killAllChildren, listeningPids } from './lib/proc.js';
import { collectEnvironment } from './lib/machine.js';
import { writeReport, type AllResults } from './lib/report/index.js';
import { runUpload } from './suites/upload.js';
import { runSigning } from './suites/signing.js';
import { runStatus } from './suites/status.js';
import { runThumbnails } from './suites/thumbnails.js';
import { runMemory } from './suites/memory.js';
import { runWebhooks } from './suites/webhooks.js';
import { runSse } from './suites/sse.js';
import { runSweep } from './suites/sweep.js';
import { runListing } from './suites/listing.js';
import { runReplicas } from './suites/replicas.js';

interface RunOptions {
  quick: boolean;
  reps: number;
  only: string[];
}

const SUITES = ['signing', 'status', 'upload', 'memory', 'thumbnails', 'webhooks', 'sse', 'sweep', 'listing', 'replicas'] as const;
type SuiteName = (typeof SUITES)[number];
/** The whole run is cut here, whatever happens (a full run takes about 30 minutes on 2 cores). */
const HARD_LIMIT_MS = 40 * 60_000;

function parseArgs(argv: string[]) {
  let quick = false;
  let only: SuiteName[] = [...SUITES];
  let reps: number | undefined;
  let out: string | undefined;
  let reportOnly = false;
  let productRoot: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const names = (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !(SUITES as readonly string[]).includes(n));
      if (bad.length || names.length === 0) throw new Error(`--only takes a comma-separated list of: ${SUITES.join(', ')}`);
      only = names as SuiteName[];
    } else if (a === '--reps' || a.startsWith('--reps=')) {
      const v = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 20) throw new Error('--reps takes an integer 1..20');
      reps = v;
    } else if (a === '--out' || a.startsWith('--out=')) {
      out = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
    } else if (a === '--product-root' || a.startsWith('--product-root=')) {
      productRoot = resolve(a.includes('=') ? a.slice(a.indexOf('=') + 1) : (argv[++i] ?? ''));
      if (!existsSync(join(productRoot, 'src', 'api', 'server.ts'))) throw new Error(`--product-root: no src/api/server.ts under ${productRoot}`);
    } else if (a === '--report-only') {
      reportOnly = true;
    } else if (a === '--help' || a === '-h') {
      console.log('npm run bench [-- --quick] [--only upload,signing,status,thumbnails,memory,webhooks,sse,sweep,listing,replicas] [--reps N] [--out DIR] [--report-only] [--product-root DIR]');
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return { quick, only, reps: reps ?? (quick ? 1 : 3), out, reportOnly, productRoot };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (m: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}`);
  const watchdog = setTimeout(() => {
    console.error(`bench: over the hard limit of ${HARD_LIMIT_MS / 60_000} minutes; stopping`);
    killAllChildren();
    process.exit(2);
  }, HARD_LIMIT_MS);
  watchdog.unref();

  const date = new Date().toISOString().slice(0, 10);
  const outDir = args.out ?? join(BENCH_ROOT, 'bench', 'results', date);
  const rawDir = join(outDir, 'raw');
  mkdirSync(rawDir, { recursive: true });
  if (args.reportOnly) {
    // Re-render report.md and the plots from the raw data (e.g. after writing notes.md).
    const saved = JSON.parse(readFileSync(join(rawDir, 'results.json'), 'utf8')) as AllResults & { options: RunOptions };
    console.log(`report: ${await writeReport(saved, outDir, saved.options)}`);
    return;
  }

  // DROPSHIP_BENCH_EMULATOR_PORT: use (or start) the emulator on another port than 4566.
  const emulator = await startEmulator({ log, ...(process.env.DROPSHIP_BENCH_EMULATOR_PORT ? { port: Number(process.env.DROPSHIP_BENCH_EMULATOR_PORT) } : {}) });
  const env = benchEnv(emulator.endpoint);
  const config = benchConfig(env);
  const { aws, store } = benchAws(config);
  const productRoot = args.productRoot ?? BENCH_ROOT;
  const emulatorPids = listeningPids(Number(new URL(emulator.endpoint).port));
  const ctx: BenchContext = { endpoint: emulator.endpoint, emulatorPids, env, config, aws, store, productRoot, quick: args.quick, reps: args.reps, rawDir, outDir, log };
  const results: AllResults = { errors: {} };
  try {
    const p = await provision(aws, provisionOptions(config));
    ctx.queueUrl = p.queueUrl;
    results.environment = await collectEnvironment(ctx, process.argv.slice(2));
    log(`bench: ${args.only.join(', ')}; ${args.reps} repetition(s)${args.quick ? ', quick' : ''}; results in ${outDir}`);
    for (const suite of args.only) {
      const t = Date.now();
      log(`== ${suite}`);
      try {
        if (suite === 'upload') results.upload = await runUpload(ctx);
        else if (suite === 'signing') results.signing = await runSigning(ctx);
        else if (suite === 'status') results.status = await runStatus(ctx);
        else if (suite === 'thumbnails') results.thumbnails = await runThumbnails(ctx);
        else if (suite === 'memory') results.memory = await runMemory(ctx);
        else if (suite === 'webhooks') results.webhooks = await runWebhooks(ctx);
        else if (suite === 'sse') results.sse = await runSse(ctx);
        else if (suite === 'sweep') results.sweep = await runSweep(ctx);
        else if (suite === 'listing') results.listing = await runListing(ctx);
        else if (suite === 'replicas') results.replicas = await runReplicas(ctx);
      } catch (e) {
        const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
        results.errors[suite] = msg;
        log(`!! ${suite} failed: ${msg}`);
        killAllChildren();
      }
      log(`== ${suite} done in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
    results.environment!.finishedAt = new Date().toISOString();
    results.environment!.wallMinutes = (Date.now() - started) / 60_000;
    results.environment!.loadAfter = (await import('node:os')).loadavg();
    const options: RunOptions = { quick: args.quick, reps: args.reps, only: args.only };
    writeFileSync(join(rawDir, 'results.json'), JSON.stringify({ ...results, options }));
    const report = await writeReport(results, outDir, options);
    log(`report: ${report}`);
  } finally {
    killAllChildren();
    destroyAwsClients(aws);
    await emulator.stop();
  }
  const failed = Object.keys(results.errors);
  if (failed.length) {
    console.error(`bench: ${failed.join(', ')} failed (see the report)`);
    process.exitCode = 1;
  }
}

process.once('SIGINT', () => {
  killAllChildren();
  process.exit(130);
});

await main();
