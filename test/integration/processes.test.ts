/**
 * The processes as a user starts them: `npm run dev` brings up api + worker against the
 * emulator and serves /healthz and /readyz; a bad setting stops start-up naming it; both
 * shut down on SIGTERM. `npm start` / `npm run start:worker` run the compiled dist/ (built by
 * the integration setup, test/setup/build.ts) with plain node.
 */
import { describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { eventually } from '../support/env.js';
import { TEST_ENV } from '../support/names.js';

const node = process.execPath;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function start(args: string[], env: Record<string, string>, command = node) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, output: () => output };
}

describe('api start-up', () => {
  it('refuses a bad setting and names the variable', async () => {
    const p = start(['--import', 'tsx', 'src/api/server.ts'], { PORT: 'not-a-port' });
    expect(await p.exited).toBe(78);
    expect(p.output()).toMatch(/PORT=/);
  });
});

describe('npm run dev', () => {
  it('serves /healthz and /readyz, then stops everything on SIGTERM', async () => {
    const port = await freePort();
    const p = start(['--import', 'tsx', 'scripts/dev.ts'], {
      PORT: String(port),
      DROPSHIP_BUCKET: 'dropship-devcheck',
      DROPSHIP_QUEUE_NAME: 'dropship-devcheck-events',
      DROPSHIP_DLQ_NAME: 'dropship-devcheck-events-dlq',
      LOG_LEVEL: 'warn',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${base}/healthz`)).status === 200 || undefined, 60_000, 250);
      const ready = await eventually(async () => {
        const r = await fetch(`${base}/readyz`);
        return r.status === 200 ? ((await r.json()) as { ok: boolean }) : undefined;
      }, 30_000);
      expect(ready.ok).toBe(true);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  }, 120_000);
});

/** An npm script's command line, run without npm in between (signals reach the process itself). */
function script(name: string): [string, string[]] {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const [command, ...args] = pkg.scripts[name]!.split(' ');
  return [command!, args];
}

describe('npm start (compiled)', () => {
  it('the api from dist/ serves /healthz and /readyz with plain node, then stops on SIGTERM', async () => {
    const [command, args] = script('start');
    expect(args.join(' ')).toMatch(/dist\/src\/api\/server\.js$/);
    const port = await freePort();
    const p = start(args, { ...TEST_ENV, AWS_ENDPOINT_URL: inject('awsEndpoint'), PORT: String(port) }, command);
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${base}/healthz`)).status === 200 || undefined, 30_000, 250);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited, p.output()).toBe(0);
  }, 60_000);

  it('the worker from dist/ refuses a bad setting and names the variable', async () => {
    const [command, args] = script('start:worker');
    expect(args.join(' ')).toMatch(/dist\/src\/worker\/main\.js$/);
    const p = start(args, { PORT: 'not-a-port' }, command);
    expect(await p.exited).toBe(78);
    expect(p.output()).toMatch(/PORT=/);
  });
});
