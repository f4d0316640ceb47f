/**
 * What a person sees when things go wrong, in words they can act on: a file over the
 * server's limit, a busy server (503 with Retry-After: the app waits and carries on by
 * itself), and a lost network (the app waits for the connection and resumes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { MIB } from '../../src/core/parts.js';
import { startApi, type TestApi } from '../support/app.js';
import { E2E_ENV, holdParts, launch, newPage, randomFile, readDownload, startStack, type Stack } from './support.js';

let stack: Stack;
let small: TestApi;
let browser: Browser;
beforeAll(async () => {
  [stack, small, browser] = await Promise.all([startStack(), startApi({ ...E2E_ENV, DROPSHIP_MAX_FILE_SIZE: String(MIB) }), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await small?.close();
  await stack?.close();
});

const row = (page: Page, name: string) => page.locator('li.upload', { hasText: name });

describe('readable errors', () => {
  it('a file over the limit is refused in the page before anything is sent, said with both sizes', async () => {
    const f = randomFile('too-big.bin', 2 * MIB);
    const { context, page } = await newPage(browser);
    const tickets: string[] = [];
    page.on('request', (req) => {
      if (req.method() === 'POST' && new URL(req.url()).pathname === '/v1/drops') tickets.push(req.url());
    });
    await page.goto(small.base);
    // The page has read the server's limits (GET /v1/limits) once the choices show.
    await page.locator('#options').waitFor({ state: 'visible' });
    await page.setInputFiles('#file-input', f.path);
    const r = row(page, f.name);
    await expect.poll(() => r.getAttribute('data-state'), { timeout: 15_000 }).toBe('refused');
    const alert = r.getByRole('alert');
    await expect(alert.textContent()).resolves.toBe('“too-big.bin” is 2.00 MiB; this server accepts files up to 1.00 MiB.');
    expect(tickets).toEqual([]);
    await context.close();
  });

  it('a file over the limit the page could not know of: 413 FILE_TOO_LARGE, said with the limit', async () => {
    const f = randomFile('too-big-2.bin', 2 * MIB);
    const { context, page } = await newPage(browser);
    // As with a server too old to answer GET /v1/limits: the ticket's 413 is what tells.
    await page.route(`${small.base}/v1/limits`, (route) => route.fulfill({ status: 404, body: '' }));
    await page.goto(small.base);
    await page.setInputFiles('#file-input', f.path);
    const r = row(page, f.name);
    await expect.poll(() => r.getAttribute('data-state'), { timeout: 15_000 }).toBe('failed');
    const alert = r.getByRole('alert');
    await expect(alert.textContent()).resolves.toBe('“too-big-2.bin” is too large: this server accepts files up to 1.00 MiB.');
    await context.close();
  });

  it('a busy server (503 + Retry-After): the app says so, waits, and finishes by itself', async () => {
    const f = randomFile('busy-server.bin', 100_000);
    const { context, page } = await newPage(browser);
    await page.goto(stack.base);
    // More refusals than the SDK's own retries: the app has to wait and try again itself.
    let refused = 0;
    await page.route(`${stack.base}/v1/drops`, (route) => {
      if (route.request().method() !== 'POST' || refused >= 5) return route.fallback();
      refused++;
      return route.fulfill({
        status: 503,
        headers: { 'retry-after': '1', 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: 'UPLOAD_SLOTS_FULL', message: 'the server is at its upload capacity; retry shortly' } }),
      });
    });
    await page.setInputFiles('#file-input', f.path);
    const r = row(page, f.name);
    await expect.poll(() => r.getAttribute('data-state'), { timeout: 30_000 }).toBe('waiting');
    await expect(r.getByRole('alert').textContent()).resolves.toBe('The server is busy. Trying again in 1 s.');
    await expect.poll(() => r.getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
    expect(refused).toBe(5);
    await expect(r.getByRole('alert').isHidden()).resolves.toBe(true);
    await context.close();
  });

  it('a lost network: the app says so, waits for the connection and resumes', async () => {
    const f = randomFile('network-lost.bin', 20 * MIB);
    const { context, page } = await newPage(browser);
    await page.goto(stack.base);
    const hold = await holdParts(page, stack.s3);
    await page.setInputFiles('#file-input', f.path);
    const r = row(page, f.name);
    await r.locator('input.share-url').waitFor({ state: 'visible' });
    await expect.poll(() => hold.held, { timeout: 15_000 }).toBeGreaterThan(0);
    await context.setOffline(true);
    await hold.release();
    await expect.poll(() => r.getAttribute('data-state'), { timeout: 45_000 }).toBe('waiting');
    await expect(r.getByRole('alert').textContent()).resolves.toMatch(/network connection was lost.*back online/);
    await expect(r.locator('.upload-meta').textContent()).resolves.toBe('Waiting for the network…');
    await context.setOffline(false);
    await expect.poll(() => r.getAttribute('data-state'), { timeout: 45_000 }).toBe('done');
    const link = await r.locator('input.share-url').inputValue();
    await page.goto(link);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    expect(readDownload((await download.path())!)).toBe(f.sha256);
    await context.close();
  });
});
