/**
 * LocalStack in host mode, from PyPI — no Docker engine needed.
 *
 * First use creates localstack/.venv (git-ignored) from the pinned lock in
 * requirements.txt; later starts reuse it. `startEmulator` reuses an emulator that already
 * answers on the port (e.g. one `npm run dev` started), and otherwise starts one in its own
 * process group so `stop()` ends it and everything it spawned.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const venv = join(here, '.venv');
const python = join(venv, 'bin', 'python');
const requirements = join(here, 'requirements.txt');
const stamp = join(venv, '.dropship-installed');

export interface EmulatorHandle {
  endpoint: string;
  /** False when an emulator was already running and is reused (stop() leaves it alone). */
  owned: boolean;
  stop(): Promise<void>;
}

type Log = (msg: string) => void;

/** A Python 3.10+ on PATH (or DROPSHIP_PYTHON) to make a virtualenv with. */
export function findPython(): string {
  for (const cmd of [process.env.DROPSHIP_PYTHON, 'python3.11', 'python3.12', 'python3.10', 'python3'].filter(Boolean) as string[]) {
    const r = spawnSync(cmd, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (r.status === 0) {
      const [maj, min] = r.stdout.trim().split('.').map(Number);
      if (maj === 3 && (min ?? 0) >= 10) return cmd;
    }
  }
  throw new Error('LocalStack needs Python 3.10 or newer (python3 on PATH, or DROPSHIP_PYTHON).');
}

/** Creates or refreshes the virtualenv when requirements.txt changed since the last install. */
export function ensureInstalled(log: Log = console.error): void {
  const want = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(python)) return;
  log('local AWS: installing LocalStack (pinned, from PyPI) into localstack/.venv — first run only, about a minute...');
  rmSync(venv, { recursive: true, force: true });
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`local AWS install failed: ${cmd} ${args.join(' ')} exited ${r.status}`);
  };
  run(findPython(), ['-m', 'venv', venv]);
  run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-q', '-r', requirements]);
  writeFileSync(stamp, want);
  log('local AWS: LocalStack installed.');
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const r = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(2000) });
    if (!r.ok) return false;
    const body = (await r.json()) as { services?: Record<string, string> };
    return ['s3', 'sqs'].every((s) => ['running', 'available'].includes(body.services?.[s] ?? ''));
  } catch {
    return false;
  }
}

async function waitFor(cond: () => Promise<boolean>, ms: number, child?: ChildProcess): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return true;
    if (child && child.exitCode !== null) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

export async function startEmulator(opts: { port?: number; log?: Log } = {}): Promise<EmulatorHandle> {
  const port = opts.port ?? 4566;
  const log = opts.log ?? console.error;
  const endpoint = `http://127.0.0.1:${port}`;
  if (await healthy(endpoint)) {
    log(`local AWS: reusing the emulator already running at ${endpoint}`);
    return { endpoint, owned: false, stop: async () => {} };
  }
  ensureInstalled(log);
  const data = join(here, '.data', String(port));
  rmSync(data, { recursive: true, force: true });
  mkdirSync(join(data, 'fs'), { recursive: true });
  const logFile = join(here, `localstack-${port}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(python, ['-m', 'localstack.runtime.main'], {
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      // cloudformation (+ cloudwatch for the alarms): the CDK stack's storage part is deployed into it (test/integration/deploy-emulator.test.ts).
      SERVICES: 's3,sqs,cloudformation,cloudwatch',
      EAGER_SERVICE_LOADING: '1',
      GATEWAY_LISTEN: `127.0.0.1:${port}`,
      LOCALSTACK_HOST: `localhost:${port}`,
      SQS_ENDPOINT_STRATEGY: 'path',
      OVERRIDE_IN_DOCKER: '0',
      DNS_ADDRESS: '0',
      SKIP_SSL_CERT_DOWNLOAD: '1',
      DISABLE_EVENTS: '1',
      FILESYSTEM_ROOT: join(data, 'fs'),
      S3_SKIP_SIGNATURE_VALIDATION: '0',
      // plux caches entry points under the user's cache dir; a private one cannot go stale.
      XDG_CACHE_HOME: join(data, 'cache'),
    },
  });
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 10_000);
    await exited;
    clearTimeout(t);
  };
  log(`local AWS: starting LocalStack on ${endpoint} (log: ${logFile})`);
  if (!(await waitFor(() => healthy(endpoint), 90_000, child))) {
    await stop();
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    throw new Error(`LocalStack did not become ready on ${endpoint}:\n${tail}`);
  }
  log('local AWS: ready');
  return { endpoint, owned: true, stop };
}
