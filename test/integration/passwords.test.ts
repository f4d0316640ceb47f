/**
 * A password-protected drop end to end against the emulator and a real worker: a ticket
 * with a password, the bytes straight to S3, ready — and until it is unlocked nothing about
 * the file leaks from any route; unlocked, the bytes come back identical. The SDK and the
 * CLI do the same with the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DropshipApiError, DropshipClient, isLockedView } from '../../src/client/index.js';
import { fileSource } from '../../src/client/node.js';
import type { RunningWorker } from '../../src/worker/worker.js';
import { api, createTicket, putPart, sha256, startApi, type TestApi } from '../support/app.js';
import { eventually, queueUrl } from '../support/env.js';
import { runCli } from '../support/cli.js';
import { startTestWorker } from '../support/worker.js';

const PASSWORD = 'integration secret 7';
let s: TestApi;
let worker: RunningWorker;
let dir: string;

beforeAll(async () => {
  s = await startApi();
  worker = startTestWorker({ config: s.config, queueUrl: queueUrl(), log: pino({ level: 'warn' }) });
  dir = await mkdtemp(join(tmpdir(), 'dropship-passwords-'));
});
afterAll(async () => {
  await worker?.stop();
  await s?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a password-protected drop', () => {
  it('ticket → upload → ready; nothing leaks before unlock; unlocked, the download matches byte for byte', async () => {
    const data = randomBytes(50_000);
    const name = 'board-minutes-confidential.txt';
    const tk = await createTicket(s.base, { name, size: data.length, type: 'text/plain', password: PASSWORD });
    expect((await putPart(tk.parts[0]!.url, data, tk.parts[0]!.headers)).status).toBe(200);
    expect((await api(s.base, 'POST', `/v1/drops/${tk.id}/complete`, {}, { 'x-owner-token': tk.ownerToken })).status).toBe(200);
    await eventually(async () => {
      const r = await api<{ status: string }>(s.base, 'GET', `/v1/drops/${tk.id}`, undefined, { 'x-owner-token': tk.ownerToken });
      return r.body.status === 'ready' ? true : undefined;
    }, 30_000);

    // Nothing about the file, from anything a stranger can reach.
    const view = await fetch(`${s.base}/v1/drops/${tk.id}`);
    expect(await view.json()).toEqual({ id: tk.id, status: 'ready', expiresAt: expect.any(String), protected: true });
    const events = await fetch(`${s.base}/v1/drops/${tk.id}/events`);
    expect(await events.text()).not.toContain('board-minutes');
    const page = await fetch(`${s.base}/d/${tk.id}`, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(html).not.toContain('board-minutes');
    expect(html).toContain('type="password"');
    for (const path of [`/d/${tk.id}/download`, `/d/${tk.id}/thumb/256`]) {
      const r = await fetch(`${s.base}${path}`, { redirect: 'manual' });
      expect([path, r.status, r.headers.get('location')]).toEqual([path, 401, null]);
      expect(await r.text()).not.toContain('board-minutes');
    }
    const wrong = await fetch(`${s.base}/d/${tk.id}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'wrong password' }) });
    expect(wrong.status).toBe(401);

    // The share page's form: 303 and the cookie, which then downloads.
    const unlocked = await fetch(`${s.base}/d/${tk.id}/unlock`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: PASSWORD }),
    });
    expect(unlocked.status).toBe(303);
    const cookie = unlocked.headers.get('set-cookie')!.split(';')[0]!;
    const shown = await fetch(`${s.base}/d/${tk.id}`, { headers: { cookie } });
    expect(await shown.text()).toContain(name);
    const redirect = await fetch(`${s.base}/d/${tk.id}/download`, { redirect: 'manual', headers: { cookie } });
    expect(redirect.status).toBe(302);
    const file = await fetch(redirect.headers.get('location')!);
    expect(sha256(Buffer.from(await file.arrayBuffer()))).toBe(sha256(data));
  });

  it('the SDK: upload with a password, locked view, wrong password refused, unlock and download byte for byte', async () => {
    const data = randomBytes(20_000);
    const path = join(dir, 'sdk-secret.bin');
    await writeFile(path, data);
    const client = new DropshipClient({ baseUrl: s.base });
    const up = await client.upload(await fileSource(path), { password: PASSWORD });
    expect(up.protected).toBe(true);
    const locked = await client.status(up.id);
    expect(isLockedView(locked)).toBe(true);
    await expect(client.unlock(up.id, 'not the one')).rejects.toMatchObject({ code: 'PASSWORD_WRONG', status: 401 });
    await expect(client.downloadLocation(up.id)).rejects.toBeInstanceOf(DropshipApiError);
    await client.waitUntil(up.id, { statuses: ['ready'], timeoutMs: 30_000 });
    const { unlockToken } = await client.unlock(up.id, PASSWORD);
    expect(await client.status(up.id, undefined, undefined, unlockToken)).toMatchObject({ name: 'sdk-secret.bin', protected: true });
    const res = await client.download(up.id, { password: PASSWORD });
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));
  });

  it('the CLI: upload --password (from the environment), status says protected, download needs the right password', async () => {
    const data = randomBytes(10_000);
    await writeFile(join(dir, 'cli-secret.bin'), data);
    const env = { DROPSHIP_URL: s.base, XDG_STATE_HOME: join(dir, 'state'), DROPSHIP_API_KEY: '' };
    const up = await runCli(['upload', 'cli-secret.bin', '--wait'], { cwd: dir, env: { ...env, DROPSHIP_PASSWORD: PASSWORD } });
    expect(up.code).toBe(0);
    const link = up.stdout.trim();
    const status = await runCli(['status', link], { cwd: dir, env });
    expect(status.stdout).toContain('protected');
    expect(status.stdout).not.toContain('cli-secret');
    const none = await runCli(['download', link, '-o', 'none.bin'], { cwd: dir, env });
    expect([none.code, none.stderr]).toEqual([6, expect.stringContaining('is password-protected')]);
    const wrong = await runCli(['download', link, '-o', 'wrong.bin', '--password', 'bad password'], { cwd: dir, env });
    expect([wrong.code, wrong.stderr]).toEqual([6, expect.stringContaining('wrong password')]);
    const right = await runCli(['download', link, '-o', 'got.bin', '--password', PASSWORD], { cwd: dir, env });
    expect(right.code).toBe(0);
    expect(sha256(await readFile(join(dir, 'got.bin')))).toBe(sha256(data));

    // Several files with a password: each its own protected link, and no collection (it would show them).
    await writeFile(join(dir, 'two-a.bin'), randomBytes(100));
    await writeFile(join(dir, 'two-b.bin'), randomBytes(100));
    const two = await runCli(['upload', 'two-a.bin', 'two-b.bin', '--password', PASSWORD], { cwd: dir, env });
    expect(two.code).toBe(0);
    const links = two.stdout.trim().split('\n');
    expect(links).toHaveLength(2);
    for (const l of links) expect(l).toMatch(/\/d\/[A-Za-z0-9_-]{21}$/);
    expect(two.stderr).toContain('no collection link: password-protected files cannot share one');
  });
});
