/**
 * Acceptance tests of the `dropship` CLI: the real bin/dropship.js as a child process against
 * a listening api and the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { dropKeys } from '../../src/core/layout.js';
import { MIB } from '../../src/core/parts.js';
import type { RunningWorker } from '../../src/worker/worker.js';
import { api, sha256, startApi, type TestApi } from '../support/app.js';
import { queueUrl, eventually } from '../support/env.js';
import { DROPSHIP_BIN, runCli, startCli, type CliOptions } from '../support/cli.js';

let s: TestApi;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  // Everything multipart (8 MiB parts), so a 25 MiB file has 4 parts.
  s = await startApi({ DROPSHIP_SINGLE_PUT_MAX: '0' });
  dir = await mkdtemp(join(tmpdir(), 'dropship-cli-'));
  env = { DROPSHIP_URL: s.base, XDG_STATE_HOME: join(dir, 'state'), DROPSHIP_API_KEY: '' };
});
afterAll(async () => {
  await s?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], opts: CliOptions = {}) => runCli(args, { cwd: dir, ...opts, env: { ...env, ...opts.env } });
const lines = (text: string) => text.split('\n').filter(Boolean);
const idOf = (url: string) => /\/d\/([^/\s]+)/.exec(url)![1]!;

async function file(name: string, size: number) {
  const data = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, data);
  return { path, data };
}

describe('dropship upload --expires-in', () => {
  it('sets the drop lifetime, not the upload deadline; beyond the server maximum is a usage error', async () => {
    const f = await file('brief.txt', 100);
    const before = Date.now();
    const r = await cli(['upload', '--expires-in', '3d', f.path]);
    expect(r.code, r.stderr).toBe(0);
    const view = await api<{ expiresAt: string }>(s.base, 'GET', `/v1/drops/${idOf(lines(r.stdout)[0]!)}`);
    const expiresAt = Date.parse(view.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3 * 86_400_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3 * 86_400_000);
    const tooLong = await cli(['upload', '--expires-in', '31d', f.path, '--no-resume']);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/expiresIn may be at most 2592000 seconds/);
  });
});

describe('dropship upload / download', () => {
  it('uploads three files, prints three links in argument order (then the collection of all three), and download returns identical bytes', async () => {
    const files = [await file('small.txt', 1000), await file('empty.bin', 0), await file('big.bin', 25 * MIB + 3)];
    const r = await cli(['upload', '--concurrency', '3', ...files.map((f) => f.path)]);
    expect(r.code, r.stderr).toBe(0);
    const all = lines(r.stdout);
    expect(all).toHaveLength(4);
    const links = all.slice(0, 3);
    for (const link of links) expect(link).toMatch(new RegExp(`^${s.base}/d/[A-Za-z0-9_-]+$`));
    expect(all[3]).toMatch(new RegExp(`^${s.base}/c/[A-Za-z0-9_-]{21}$`));
    const c = await api<{ drops: { id: string }[] }>(s.base, 'GET', `/v1/collections/${all[3]!.split('/').at(-1)}`);
    expect(c.body.drops.map((d) => d.id)).toEqual(links.map(idOf));

    for (const [i, f] of files.entries()) {
      const out = join(dir, `copy-${i}`);
      const d = await cli(['download', links[i]!, '-o', out], { env: { DROPSHIP_PROGRESS_EVERY_MS: '0' } });
      expect(d.code, d.stderr).toBe(0);
      expect(sha256(await readFile(out))).toBe(sha256(f.data));
      // Progress on stderr as the bytes arrive (plain lines off a terminal), then the result.
      if (f.data.length > 0) expect(d.stderr).toMatch(new RegExp(`copy-${i}: \\d+% .*B/s`));
      expect(d.stderr).toContain(`→ ${out}`);
    }
  });

  it('download names the file after the upload, safely, and does not overwrite without --force', async () => {
    const { path, data } = await file('report 2024 (final).bin', 2048);
    const up = await cli(['upload', path]);
    expect(up.code, up.stderr).toBe(0);
    const into = join(dir, 'downloads');
    await mkdir(into);
    const d = await cli(['download', lines(up.stdout)[0]!], { cwd: into });
    expect(d.code, d.stderr).toBe(0);
    expect(await readdir(into)).toEqual(['report 2024 (final).bin']);
    expect(sha256(await readFile(join(into, 'report 2024 (final).bin')))).toBe(sha256(data));

    const again = await cli(['download', lines(up.stdout)[0]!], { cwd: into });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists');
    const forced = await cli(['download', '--force', lines(up.stdout)[0]!], { cwd: into });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readdir(into)).toEqual(['report 2024 (final).bin']); // no temp files left behind
  });

  it('--expires takes a duration as people write it, --max-downloads a count: both reach the drop', async () => {
    const f = await file('choices.txt', 10);
    const r = await cli(['upload', '--json', '--expires', '3 days', '--max-downloads', '2', f.path]);
    expect(r.code, r.stderr).toBe(0);
    const { id } = JSON.parse(lines(r.stdout)[0]!) as { id: string };
    const view = (await api<{ createdAt: string; expiresAt: string; maxDownloads: number }>(s.base, 'GET', `/v1/drops/${id}`)).body;
    expect(Date.parse(view.expiresAt) - Date.parse(view.createdAt)).toBe(3 * 86_400_000);
    expect(view.maxDownloads).toBe(2);
    const bad = await cli(['upload', '--expires', 'soon', f.path]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--expires must be a duration like');
  });

  it('--json prints one parseable object per file', async () => {
    const a = await file('a.json-test', 10);
    const b = await file('b.json-test', 9 * MIB);
    const r = await cli(['upload', '--json', a.path, b.path]);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out).toHaveLength(3);
    expect(out[2]).toMatchObject({ collection: { shareUrl: expect.stringMatching(/\/c\//), drops: [out[0]!.id, out[1]!.id] } });
    expect(out[0]).toMatchObject({ file: a.path, ok: true, name: 'a.json-test', size: 10, status: 'processing', resumed: false, bytesSent: 10, exitCode: 0 });
    expect(out[1]).toMatchObject({ file: b.path, ok: true, size: 9 * MIB });
    expect(out[1]!.shareUrl).toBe(`${s.base}/d/${out[1]!.id as string}`);
    expect(typeof out[1]!.ownerToken).toBe('string');
  });

  it('a missing file fails that file only, with exit 1 and a JSON error', async () => {
    const ok = await file('fine.bin', 5);
    const r = await cli(['upload', '--json', join(dir, 'nope.bin'), ok.path]);
    expect(r.code).toBe(1);
    const [bad, good] = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(bad).toMatchObject({ ok: false, error: { code: 'ENOENT' }, exitCode: 1 });
    expect(good).toMatchObject({ ok: true });
  });
});

describe('state file trouble', () => {
  it('an unwritable state file costs resuming, not the upload', async () => {
    const { path, data } = await file('no-state.bin', 300);
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const r = await cli(['upload', path], { env: { DROPSHIP_STATE_FILE: join(blocker, 'uploads.json') } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: cannot write');
    const out = join(dir, 'no-state.copy');
    expect((await cli(['download', lines(r.stdout)[0]!, '-o', out])).code).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(data));
  });
});

describe('resume after the CLI is killed', () => {
  it('continues the same drop on the next run and sends fewer bytes than the file', async () => {
    const { path, data } = await file('huge.bin', 64 * MIB); // 8 parts of 8 MiB
    const first = startCli(['upload', '--concurrency', '1', path], { cwd: dir, env });
    // Plain progress lines (stderr is not a TTY) appear when parts complete: the first one
    // means at least one part is in S3 and the ticket is in the state file.
    await eventually(async () => /parts [1-9]\d*\/8/.test(first.stderrSoFar()) || undefined, 50_000, 20);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).toBe('');
    const firstId = idOf(/→ (\S+)/.exec(killed.stderr)![1]!);

    const second = await cli(['upload', '--json', '--concurrency', '4', path]);
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(lines(second.stdout)[0]!) as { id: string; resumed: boolean; bytesSent: number; size: number };
    expect(result).toMatchObject({ id: firstId, resumed: true, size: data.length });
    expect(result.bytesSent).toBeLessThan(data.length);
    expect(second.stderr).toContain('resuming');

    const out = join(dir, 'huge.copy');
    expect((await cli(['download', firstId, '-o', out])).code).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(data));

    // The state file holds owner tokens: only its owner may read it.
    expect((await stat(join(dir, 'state', 'dropship', 'uploads.json'))).mode & 0o777).toBe(0o600);

    // Done means forgotten: a third run is a new drop.
    const third = await cli(['upload', '--json', path]);
    expect((JSON.parse(lines(third.stdout)[0]!) as { id: string; resumed: boolean })).toMatchObject({ resumed: false });
  }, 120_000);

  it('Ctrl-C stops with exit 130 and leaves the upload resumable', async () => {
    const { path } = await file('interrupted.bin', 32 * MIB); // 7 parts: 6 × 5 MiB + 2 MiB
    const run = startCli(['upload', '--concurrency', '1', path], { cwd: dir, env });
    await eventually(async () => /parts [1-9]\d*\/7/.test(run.stderrSoFar()) || undefined, 50_000, 20);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted.bin: interrupted — run the same command to resume');
    expect(r.stderr).not.toContain('failed');
    const id = idOf(/→ (\S+)/.exec(r.stderr)![1]!);
    expect((await api<{ status: string }>(s.base, 'GET', `/v1/drops/${id}`)).body.status).toBe('uploading');
    const again = await cli(['upload', '--json', path]);
    expect(JSON.parse(lines(again.stdout)[0]!)).toMatchObject({ id, resumed: true, ok: true });
  }, 120_000);
});

describe('status, wait, delete', () => {
  let worker: RunningWorker | undefined;
  afterAll(async () => worker?.stop());

  it('status prints the drop, --json parses, an unknown drop exits 3', async () => {
    const { path } = await file('status.bin', 100);
    const link = lines((await cli(['upload', path])).stdout)[0]!;
    const human = await cli(['status', link]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/status\s+(processing|ready)/);
    const j = await cli(['status', '--json', idOf(link)]);
    expect(JSON.parse(j.stdout)).toMatchObject({ id: idOf(link), name: 'status.bin', size: 100 });
    const missing = await cli(['status', 'AAAAAAAAAAAAAAAAAAAAA']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no drop');
  });

  it('wait returns once the worker has made the drop ready', async () => {
    // Loaded here, not at the top: the rest of this file does not depend on the worker.
    const { startTestWorker } = await import('../support/worker.js');
    worker = startTestWorker({ config: s.config, queueUrl: queueUrl(), log: pino({ level: 'silent' }) });
    const { path } = await file('photo.bin', 4096);
    const link = lines((await cli(['upload', path])).stdout)[0]!;
    const r = await cli(['wait', '--timeout', '45s', link]);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual([link]);
    expect(JSON.parse((await cli(['status', '--json', link])).stdout)).toMatchObject({ status: 'ready' });
  }, 60_000);

  it('wait exits 7 when the timeout runs out and 4 when the drop is gone', async () => {
    // A ticket with no bytes stays "uploading".
    const t = await api<{ id: string; ownerToken: string }>(s.base, 'POST', '/v1/drops', { name: 'x.bin', size: 1 });
    const timedOut = await cli(['wait', '--timeout', '1s', '--interval', '200ms', t.body.id]);
    expect(timedOut.code).toBe(7);
    await api(s.base, 'DELETE', `/v1/drops/${t.body.id}`, undefined, { 'x-owner-token': t.body.ownerToken });
    const gone = await cli(['wait', t.body.id]);
    expect(gone.code).toBe(4);
    expect(gone.stdout.trim()).toBe('cancelled');
  });

  it('delete uses the owner token remembered from the upload; the drop is gone afterwards', async () => {
    const { path } = await file('delete-me.bin', 9 * MIB);
    const link = lines((await cli(['upload', path])).stdout)[0]!;
    const id = idOf(link);
    const del = await cli(['delete', link]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout.trim()).toBe(`${id} cancelled`);
    expect(await s.store.listKeys(dropKeys(id).prefix)).toEqual([dropKeys(id).manifest]);
    expect(JSON.parse((await cli(['status', '--json', id])).stdout)).toMatchObject({ status: 'cancelled' });
    const dl = await cli(['download', id, '-o', join(dir, 'never')]);
    expect(dl.code).toBe(4);
    // Deleting again is not an error: the same answer, exit 0.
    const again = await cli(['delete', id]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(`${id} cancelled`);
  });

  it('delete with --owner-token works for a drop uploaded elsewhere; a wrong token exits 6', async () => {
    const t = await api<{ id: string; ownerToken: string }>(s.base, 'POST', '/v1/drops', { name: 'y.bin', size: 1 });
    const wrong = await cli(['delete', '--owner-token', 'nope', t.body.id]);
    expect(wrong.code).toBe(6);
    const right = await cli(['delete', '--owner-token', t.body.ownerToken, t.body.id]);
    expect(right.code, right.stderr).toBe(0);
    expect(await s.store.listMultipartUploads(dropKeys(t.body.id).prefix)).toEqual([]);
  });
});

describe('usage errors exit 2', () => {
  it.each([
    [[]],
    [['frobnicate']],
    [['upload']],
    [['upload', '--concurrency', '0', 'x']],
    [['upload', '--no-such-flag', 'x']],
    [['status']],
    [['status', 'not a url or id']],
    [['wait', 'AAAAAAAAAAAAAAAAAAAAA', '--timeout', 'soon']],
    [['delete', 'AAAAAAAAAAAAAAAAAAAAA']],
  ])('dropship %j', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toBe('');
  });

  it('--help documents the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const code of ['0', '1', '2', '3', '4', '5', '6', '7']) expect(r.stdout).toMatch(new RegExp(`^\\s+${code}\\s+\\S`, 'm'));
  });
});

describe('the compiled CLI', () => {
  // The integration setup (test/setup/build.ts) compiles dist/ from the current sources first.
  it('bin/dropship.js runs dist/src/cli/main.js: --version finds package.json from there', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await cli(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('without dist/ it stops with exit 1 and says to run npm run build (and npm ci first, without node_modules)', async () => {
    const checkout = join(dir, 'unbuilt');
    await mkdir(join(checkout, 'bin'), { recursive: true });
    await copyFile(DROPSHIP_BIN, join(checkout, 'bin', 'dropship.js'));
    const help = () =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, [join(checkout, 'bin', 'dropship.js'), '--help'], (_e, _out, stderr) =>
          resolve({ code: child.exitCode, stderr }),
        );
      });
    const fresh = await help();
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(/dist\/src\/cli\/main\.js is missing: run "npm ci" and then "npm run build" in /);
    await mkdir(join(checkout, 'node_modules'));
    const r = await help();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dist\/src\/cli\/main\.js is missing: run "npm run build" in /);
  });
});
