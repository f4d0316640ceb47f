/**
 * A password-protected drop's share page in Chromium: before unlocking the page names no
 * file; a wrong password is refused with a message; the right one reveals the file, and
 * the download button downloads it byte for byte (the unlock cookie rides along).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { DropshipClient } from '../../src/client/index.js';
import { fileSource } from '../../src/client/node.js';
import { launch, newPage, randomFile, readDownload, screenshotPath, startStack, watch, type Stack } from './support.js';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const PASSWORD = 'open sesame 42';

describe('the share page of a password-protected drop', () => {
  it('shows a password form and no file name; refuses a wrong password; the right one reveals and downloads the file', async () => {
    const f = randomFile('quarterly-secret-report.bin', 300_000);
    const client = new DropshipClient({ baseUrl: stack.base });
    const view = await client.upload(await fileSource(f.path), { password: PASSWORD });
    await client.waitUntil(view.id, { statuses: ['ready'], timeoutMs: 30_000 });

    const { context, page } = await newPage(browser);
    const seen = watch(page);
    await page.goto(view.shareUrl);
    const before = await page.content();
    expect(before).not.toContain('quarterly-secret-report');
    await expect(page.locator('h1').textContent()).resolves.toBe('Password-protected file');
    expect(await page.locator('a#download').count()).toBe(0);

    await page.fill('#password', 'not it at all');
    await Promise.all([page.waitForURL(`${stack.base}/d/${view.id}/unlock`), page.click('#unlock-button')]);
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Wrong password. Please try again.');
    expect(await page.content()).not.toContain('quarterly-secret-report');
    await page.screenshot({ path: screenshotPath('password-wrong.png') });

    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(view.shareUrl), page.click('#unlock-button')]);
    await expect(page.locator('#name').textContent()).resolves.toBe('quarterly-secret-report.bin');
    await expect(page.locator('#facts').textContent()).resolves.toMatch(/Uploaded.*Expires\s*in 7 days/s);
    await page.screenshot({ path: screenshotPath('password-unlocked.png') });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    expect(readDownload((await download.path())!)).toBe(f.sha256);
    // No CSP violation or script error on the way (the form works without any script);
    // Chromium logs the wrong password's 401 page itself as a failed load.
    expect(seen.problems.filter((p) => !p.includes('status of 401'))).toEqual([]);
    await context.close();

    // Another browser (no cookie) still sees the form, and the download link refuses it.
    const other = await newPage(browser);
    await other.page.goto(view.shareUrl);
    expect(await other.page.content()).not.toContain('quarterly-secret-report');
    const refused = await other.page.goto(`${stack.base}/d/${view.id}/download`);
    expect(refused?.status()).toBe(401);
    await expect(other.page.locator('h1').textContent()).resolves.toBe('Password required');
    await other.context.close();
  });

  it('a protected collection: the form hides the title and files; the right password lists them and a file downloads', async () => {
    const client = new DropshipClient({ baseUrl: stack.base });
    const f = randomFile('collection-member-secret.bin', 50_000);
    let ownerToken = '';
    const d = await client.upload(await fileSource(f.path), { onTicket: (t) => void (ownerToken = t.ownerToken) });
    const up = (await (
      await fetch(`${stack.base}/v1/collections`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Quarterly pack', password: PASSWORD, drops: [{ id: d.id, ownerToken }] }),
      })
    ).json()) as { id: string; shareUrl: string; error?: unknown };
    expect(up.error).toBeUndefined();

    const { context, page } = await newPage(browser);
    const seen = watch(page);
    await page.goto(up.shareUrl);
    const before = await page.content();
    for (const leak of ['Quarterly pack', 'collection-member-secret', d.id]) expect([leak, before.includes(leak)]).toEqual([leak, false]);
    await page.fill('#password', 'still not it');
    await Promise.all([page.waitForURL(`${stack.base}/c/${up.id}/unlock`), page.click('#unlock-button')]);
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Wrong password. Please try again.');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(up.shareUrl), page.click('#unlock-button')]);
    await expect(page.locator('#name').textContent()).resolves.toBe('Quarterly pack');
    const row = page.locator('li.file', { hasText: 'collection-member-secret.bin' });
    await expect.poll(() => row.getAttribute('data-downloadable'), { timeout: 30_000 }).toBe('true');
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('a.file-download').click()]);
    expect(readDownload((await download.path())!)).toBe(f.sha256);
    expect(seen.problems.filter((p) => !p.includes('status of 401'))).toEqual([]);
    await context.close();
  });
});
