/** What the report states first: the machine, the versions, the exact command. */
import { cpus, loadavg, release, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { BENCH_ROOT, type BenchContext } from './env.js';

export interface Environment {
  startedAt: string;
  finishedAt?: string;
  wallMinutes?: number;
  cores: number;
  cpuModel: string;
  ramGiB: number;
  kernel: string;
  loadBefore: number[];
  loadAfter?: number[];
  node: string;
  commit: string;
  /** Files under src/ that differ from the commit when the bench ran (others were editing). */
  dirtySrc: string[];
  localstack: string;
  companion: string;
  sharp: string;
  libvips: string;
  autocannon: string;
  awsSdk: string;
  command: string;
  endpoint: string;
  /** Set when the api and workers ran from another directory (--product-root). */
  productRoot?: string;
}

const pkgVersion = (name: string) => {
  try {
    return (JSON.parse(readFileSync(join(BENCH_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

const git = (args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: BENCH_ROOT, encoding: 'utf8', timeout: 10_000 });
  } catch {
    return '';
  }
};

export async function collectEnvironment(ctx: BenchContext, argv: string[]): Promise<Environment> {
  let localstack = 'unknown';
  try {
    const r = await fetch(`${ctx.endpoint}/_localstack/health`, { signal: AbortSignal.timeout(3000) });
    localstack = ((await r.json()) as { version?: string }).version ?? 'unknown';
  } catch {
    /* reported as unknown */
  }
  const c = cpus();
  return {
    startedAt: new Date().toISOString(),
    cores: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    ramGiB: totalmem() / 1024 ** 3,
    kernel: release(),
    loadBefore: loadavg(),
    node: process.version,
    commit: git(['rev-parse', 'HEAD']).trim() || 'unknown',
    dirtySrc: git(['status', '--porcelain', '--', 'src'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3)),
    localstack,
    companion: pkgVersion('@uppy/companion'),
    sharp: sharp.versions.sharp ?? pkgVersion('sharp'),
    libvips: sharp.versions.vips,
    autocannon: pkgVersion('autocannon'),
    awsSdk: pkgVersion('@aws-sdk/client-s3'),
    command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
    endpoint: ctx.endpoint,
    ...(ctx.productRoot !== BENCH_ROOT ? { productRoot: ctx.productRoot } : {}),
  };
}
