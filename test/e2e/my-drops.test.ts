/**
 * The upload page for people, in headless Chromium against the real api, worker and
 * emulator: "Your drops" survives a reload and deletes a drop for everyone (its link then
 * answers 410 as a page), the choices for the next drops reach the drop, copy buttons say
 * "Copied" (or, refused the clipboard, select the link and say Ctrl+C), and an upload
 * interrupted by a reload continues from the part S3 already holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { dropKeys } from '../../src/core/layout.js';
import { MIB } from '../../src/core/parts.js';
import { dropFiles, holdParts, launch, newPage, partNumberOf, randomFile, readDownload, screenshotPath, startStack, watch, type Stack } from './support.js';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const card = (page: Page, name: string) => page.locator('li.upload', { hasText: name });
const mine = (page: Page, name: string) => page.locator('#my-drops li.my-drop', { hasText: name });

async function upload(page: Page, path: string, name: string) {
  await page.setInputFiles('#file-input', path);
  await expect.poll(() => card(page, name).getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
  return (await card(page, name).getAttribute('data-drop-id'))!;
}

describe('your drops', () => {
  it('upload → reload → listed with status and expiry → delete → the link answers 410, as a page', async () => {
    const f = randomFile('wrong-file.txt', 5000);
    const { context, page } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
    const seen = watch(page);
    await page.goto(stack.base);
    await page.locator('#options').waitFor({ state: 'visible' });
    const id = await upload(page, f.path, f.name);

    await page.reload();
    const entry = mine(page, f.name);
    await entry.waitFor({ state: 'visible' });
    await expect(page.locator('#my-drops-privacy').textContent()).resolves.toMatch(/only in this browser.*Anyone using this browser profile can .*delete them/);
    await expect.poll(() => entry.getAttribute('data-status'), { timeout: 30_000 }).toMatch(/^(processing|ready)$/);
    await expect.poll(() => entry.getAttribute('data-status'), { timeout: 30_000 }).toBe('ready');
    await expect(entry.locator('.my-drop-status').textContent()).resolves.toBe('Ready');
    await expect(page.locator('#my-drops-more').isHidden()).resolves.toBe(true);
    // The server's default lifetime is 7 days: a moment later it is "6 days" away.
    await expect(entry.locator('.my-drop-facts').textContent()).resolves.toMatch(/^4\.88 KiB · expires in 6 days$/);
    await expect(entry.getByRole('link', { name: `Open the share page of ${f.name}` }).getAttribute('href')).resolves.toBe(`${stack.base}/d/${id}`);

    // Screenshots of the page with the list: desktop and phone, light and dark.
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({ path: screenshotPath(`spa-my-drops-desktop-${scheme}.png`), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: screenshotPath(`spa-my-drops-phone-${scheme}.png`), fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Delete asks first; "Keep it" keeps it.
    await entry.getByRole('button', { name: `Delete ${f.name} for everyone` }).click();
    await expect(entry.getByRole('alert').textContent()).resolves.toContain('for everyone? Its link stops working at once.');
    await entry.getByRole('button', { name: 'Keep it' }).click();
    expect((await stack.api.manifests.get(id))!.manifest.status).toBe('ready');
    await entry.getByRole('button', { name: `Delete ${f.name} for everyone` }).click();
    await entry.getByRole('button', { name: `Yes, delete ${f.name}` }).click();
    await expect.poll(() => mine(page, f.name).getAttribute('data-status'), { timeout: 15_000 }).toBe('deleted');
    await expect(mine(page, f.name).locator('.my-drop-status').textContent()).resolves.toBe('Deleted: the link no longer works');
    expect((await stack.api.manifests.get(id))!.manifest.status).toBe('cancelled');

    // The link now answers 410 Gone, as a page that says so.
    const visitor = await context.newPage();
    const res = await visitor.goto(`${stack.base}/d/${id}`);
    expect(res!.status()).toBe(410);
    expect(res!.headers()['content-type']).toMatch(/^text\/html/);
    await expect(visitor.locator('#status').textContent()).resolves.toMatch(/deleted|cancelled/i);
    expect(await visitor.locator('a#download').count()).toBe(0);
    expect(await visitor.locator('.copy-link').count()).toBe(0);
    await visitor.close();

    // Still listed after a reload, as deleted, until cleared.
    await page.reload();
    await expect.poll(() => mine(page, f.name).getAttribute('data-status')).toBe('deleted');
    await mine(page, f.name).getByRole('button', { name: `Clear ${f.name} from this list` }).click();
    await expect.poll(() => mine(page, f.name).count()).toBe(0);
    expect(seen.problems).toEqual([]);
    await context.close();
  });

  it('"Clear this list" forgets the tokens and says the files stay online', async () => {
    const f = randomFile('keep-online.txt', 100);
    const { context, page } = await newPage(browser);
    await page.goto(stack.base);
    const id = await upload(page, f.path, f.name);
    await mine(page, f.name).waitFor({ state: 'visible' });
    await page.locator('#my-drops-clear').click();
    await expect(page.locator('#my-drops .my-drop-confirm').textContent()).resolves.toMatch(/does not delete the files/);
    await page.locator('#my-drops-clear-yes').click();
    await expect.poll(() => page.locator('#my-drops').isHidden()).toBe(true);
    await expect.poll(() => page.locator('#announcer').textContent()).toMatch(/files stay online/);
    expect(await page.evaluate(() => localStorage.getItem('dropship.mine.v1'))).toBeNull();
    expect((await stack.api.manifests.get(id))!.manifest.status).not.toBe('cancelled');
    await page.reload();
    await expect(page.locator('#my-drops').isHidden()).resolves.toBe(true);
    await context.close();
  });

  it('the choices reach the drop: expiry and download limit in GET /v1/drops/:id, and on the card', async () => {
    const f = randomFile('choices.txt', 1000);
    const { context, page } = await newPage(browser);
    await page.goto(stack.base);
    await page.locator('#options').waitFor({ state: 'visible' });
    // The server's lifetimes, the default preselected.
    const offered = await page.locator('#opt-expiry option').evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
    expect(offered).toContainEqual(['604800', '7 days (default)']);
    expect(offered).toContainEqual(['86400', '1 day']);
    expect(await page.locator('#opt-expiry').inputValue()).toBe('604800');
    await expect(page.locator('#opt-password').getAttribute('autocomplete')).resolves.toBe('new-password');
    await expect(page.locator('#opt-password').getAttribute('type')).resolves.toBe('password');

    // A bad download limit stops the next drop and says why.
    await page.fill('#opt-downloads', '0');
    await expect(page.locator('#opt-error').textContent()).resolves.toMatch(/whole number from 1/);
    await page.fill('#opt-downloads', '3');
    await page.selectOption('#opt-expiry', '86400');
    await expect(page.locator('#opt-summary').textContent()).resolves.toBe('Next drops: Expires after 1 day · at most 3 downloads.');

    const id = await upload(page, f.path, f.name);
    await expect(card(page, f.name).locator('.upload-choices').textContent()).resolves.toBe('Expires after 1 day · at most 3 downloads');
    const view = await (await fetch(`${stack.base}/v1/drops/${id}`)).json() as { expiresAt: string; createdAt: string; maxDownloads: number; downloadsLeft: number };
    expect(Date.parse(view.expiresAt) - Date.parse(view.createdAt)).toBe(86_400_000);
    expect([view.maxDownloads, view.downloadsLeft]).toEqual([3, 3]);
    await expect(mine(page, f.name).locator('.my-drop-facts').textContent()).resolves.toMatch(/expires in 23 hours · at most 3 downloads/);
    await context.close();
  });
});

describe('copy buttons', () => {
  it('say "Copied" for a moment and announce it; the clipboard holds the link (card, list, share page)', async () => {
    const f = randomFile('copy-me.txt', 100);
    const { context, page } = await newPage(browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.base });
    await page.goto(stack.base);
    const id = await upload(page, f.path, f.name);
    const link = `${stack.base}/d/${id}`;

    const copy = card(page, f.name).locator('button.copy');
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    await expect.poll(() => card(page, f.name).locator('.copy-status').textContent()).toBe('Link copied.');
    await expect(card(page, f.name).locator('.copy-status').getAttribute('aria-live')).resolves.toBe('polite');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    // Back to its label after about two seconds.
    await expect.poll(() => copy.textContent(), { timeout: 10_000 }).toBe('Copy link');

    await expect.poll(() => mine(page, f.name).getAttribute('data-status'), { timeout: 30_000 }).toBe('ready');
    const listCopy = mine(page, f.name).getByRole('button', { name: `Copy link of ${f.name}` });
    await page.evaluate(() => navigator.clipboard.writeText(''));
    await listCopy.click();
    await expect.poll(() => listCopy.textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);

    const share = await context.newPage();
    await share.goto(link);
    const shareCopy = share.locator('.copy-link button.copy');
    await shareCopy.click();
    await expect.poll(() => shareCopy.textContent()).toBe('Copied');
    await expect.poll(() => share.locator('.copy-link .copy-status').textContent()).toBe('Link copied.');
    expect(await share.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await page.screenshot({ path: screenshotPath('spa-copied.png'), fullPage: true });
    await context.close();
  });

  it('refused the clipboard: the link is selected and the button says to press Ctrl+C', async () => {
    const f = randomFile('no-clipboard.txt', 100);
    const { context, page } = await newPage(browser);
    await context.addInitScript(() => {
      Object.defineProperty(navigator.clipboard, 'writeText', { value: () => Promise.reject(new DOMException('denied', 'NotAllowedError')) });
    });
    await page.goto(stack.base);
    const id = await upload(page, f.path, f.name);
    const copy = card(page, f.name).locator('button.copy');
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Press Ctrl+C');
    await expect.poll(() => card(page, f.name).locator('.copy-status').textContent()).toMatch(/selected: press Ctrl\+C/);
    const selected = await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement;
      return el.value.slice(el.selectionStart ?? 0, el.selectionEnd ?? 0);
    });
    expect(selected).toBe(`${stack.base}/d/${id}`);

    const share = await context.newPage();
    await share.goto(`${stack.base}/d/${id}`);
    await share.locator('.copy-link button.copy').click();
    await expect.poll(() => share.locator('.copy-link button.copy').textContent()).toBe('Press Ctrl+C');
    await expect(share.locator('.copy-field').inputValue()).resolves.toBe(`${stack.base}/d/${id}`);
    await context.close();
  });
});

describe('resume after a reload', () => {
  it('a 20 MiB upload reloaded after its first part continues from it: progress starts at 25 %, the bytes are identical', async () => {
    const f = randomFile('resume-20mib.bin', 20 * MIB);
    const { context, page } = await newPage(browser);
    await page.goto(stack.base);
    // Part 1 goes through; the others are held (as on a slow line) until the tab reloads.
    const hold = await holdParts(page, stack.s3, (url) => partNumberOf(url) === 1);
    await page.setInputFiles('#file-input', f.path);
    const r = card(page, f.name);
    await r.locator('input.share-url').waitFor({ state: 'visible' });
    const id = (await r.getAttribute('data-drop-id'))!;
    const m = (await stack.api.manifests.get(id))!.manifest;
    expect(m.upload).toMatchObject({ partCount: 4, partSize: 5 * MIB });
    await expect.poll(async () => (await stack.api.store.listParts(dropKeys(id).original, m.upload.uploadId!))?.length, { timeout: 30_000 }).toBe(1);

    await page.reload();
    await hold.release();
    await expect(page.locator('#resumable-list').textContent()).resolves.toContain(f.name);
    // What is already saved, before the file is dropped again.
    await expect.poll(() => page.locator('#resumable-list .resumable-saved').textContent()).toBe('· 5.00 MiB of 20.0 MiB already saved');
    await page.screenshot({ path: screenshotPath('spa-resume-after-reload.png'), fullPage: true });
    await expect.poll(() => mine(page, f.name).getAttribute('data-status'), { timeout: 15_000 }).toBe('uploading');

    // Every progress line the card shows from now on, in order.
    await page.evaluate(() => {
      const lines: string[] = [];
      (window as unknown as { progressLines: string[] }).progressLines = lines;
      new MutationObserver(() => {
        const t = document.querySelector('li.upload .upload-meta')?.textContent ?? '';
        if (/^\d+%/.test(t) && lines.at(-1) !== t) lines.push(t);
      }).observe(document.getElementById('uploads')!, { subtree: true, childList: true, characterData: true });
    });
    // Dropped again: held once more, so the progress it starts from stays on screen.
    const again = await holdParts(page, stack.s3);
    await dropFiles(page, [f.path]);
    const meta = card(page, f.name).locator('.upload-meta');
    await expect.poll(() => meta.textContent(), { timeout: 15_000 }).toMatch(/^\d+% · .* of 20\.0 MiB.*5\.00 MiB resumed/);
    await again.release();
    await expect.poll(() => card(page, f.name).getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    const lines = await page.evaluate(() => (window as unknown as { progressLines: string[] }).progressLines);
    // The first progress it shows is the part already saved, not 0 %; it never goes below.
    expect(lines[0]).toMatch(/^25% · 5\.00 MiB of 20\.0 MiB · 5\.00 MiB resumed$/);
    expect(lines.map((l) => Number(/^(\d+)%/.exec(l)![1])).every((p) => p >= 25)).toBe(true);
    expect(await card(page, f.name).getAttribute('data-drop-id')).toBe(id);

    const visitor = await context.newPage();
    await visitor.goto(`${stack.base}/d/${id}`);
    const [download] = await Promise.all([visitor.waitForEvent('download'), visitor.locator('#download').click()]);
    expect(readDownload((await download.path())!)).toBe(f.sha256);
    await context.close();
  });
});
