/**
 * The upload app in headless Chromium against the real api, worker and emulator: several
 * files by drop and by picker, share links before the bytes are in, progress, the share
 * page with its thumbnail, downloads byte for byte, cancel, retries, resume after a reload,
 * keyboard use and a phone-sized screen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { dropKeys } from '../../src/core/layout.js';
import { MIB } from '../../src/core/parts.js';
import {
  dropFiles,
  holdParts,
  countPartBytes,
  launch,
  newPage,
  partNumberOf,
  photo,
  randomFile,
  readDownload,
  screenshotPath,
  startStack,
  watch,
  type Stack,
  type TestFile,
} from './support.js';

let stack: Stack;
let browser: Browser;
let jpeg: TestFile;
let bin: TestFile;

beforeAll(async () => {
  [stack, browser, jpeg] = await Promise.all([startStack(), launch(), photo()]);
  bin = randomFile('random-30mib.bin', 30 * MIB);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const row = (page: Page, name: string) => page.locator('li.upload', { hasText: name });

async function stateOf(page: Page, name: string) {
  return row(page, name).getAttribute('data-state');
}

/** Downloads a drop through its share page's button, as a visitor would. */
async function downloadFromSharePage(page: Page, shareUrl: string): Promise<string> {
  await page.goto(shareUrl);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
  return readDownload((await download.path())!);
}

describe('the upload app', () => {
  it('uploads a dropped 12 MP photo and a picked 30 MiB file: links first, thumbnail, identical downloads', async () => {
    const { context, page } = await newPage(browser);
    const seen = watch(page);
    await page.goto(stack.base);
    await expect(page.title()).resolves.toMatch(/dropship/);

    // Only the first part of a multipart upload gets through until both links are on screen:
    // the share links must not wait for the bytes.
    const hold = await holdParts(page, stack.s3, (url) => new URL(url).searchParams.get('partNumber') === '1');
    await dropFiles(page, [jpeg.path]);
    await page.setInputFiles('#file-input', bin.path);

    for (const f of [jpeg, bin]) {
      const link = row(page, f.name).locator('input.share-url');
      await link.waitFor({ state: 'visible' });
      await expect.poll(() => link.inputValue(), { timeout: 15_000 }).toMatch(new RegExp(`^${stack.base}/d/[A-Za-z0-9_-]{21}$`));
      expect(await stateOf(page, f.name)).toBe('uploading');
      await expect(row(page, f.name).locator('canvas.qr').isVisible()).resolves.toBe(true);
    }
    // Part 1 of the big file is through: its bar and numbers move.
    await page.waitForFunction((name) => {
      const li = [...document.querySelectorAll('li.upload')].find((l) => l.textContent?.includes(name));
      return (li?.querySelector('progress')?.value ?? 0) > 0;
    }, bin.name);
    expect(await row(page, bin.name).locator('.upload-meta').textContent()).toMatch(/^\d+% · [\d.]+ MiB of 30\.0 MiB/);
    await page.screenshot({ path: screenshotPath('spa-mid-upload.png'), fullPage: true });

    // Someone opens the photo's link while it is still uploading...
    const jpegLink = await row(page, jpeg.name).locator('input.share-url').inputValue();
    const visitor = await context.newPage();
    const seenByVisitor = watch(visitor);
    await visitor.goto(jpegLink);
    await expect(visitor.locator('#status').textContent()).resolves.toContain('Still uploading');
    expect(await visitor.locator('a#download').count()).toBe(0);
    let reloads = 0;
    visitor.on('framenavigated', (frame) => {
      if (frame === visitor.mainFrame()) reloads++;
    });
    await hold.release();

    for (const f of [jpeg, bin]) {
      await expect.poll(() => stateOf(page, f.name), { timeout: 90_000 }).toBe('done');
      expect(await row(page, f.name).locator('progress').evaluate((p: HTMLProgressElement) => p.value)).toBe(100);
    }
    const links = Object.fromEntries(
      await Promise.all([jpeg, bin].map(async (f) => [f.name, await row(page, f.name).locator('input.share-url').inputValue()] as const)),
    );
    expect(links[jpeg.name]).toBe(jpegLink);
    expect(seen.problems).toEqual([]);

    // ...and, without reloading, sees it finish and get its thumbnail once the worker is done.
    await visitor.waitForFunction(() => {
      const img = document.getElementById('thumbnail') as HTMLImageElement | null;
      return !!img && img.complete && img.naturalWidth > 0;
    }, undefined, { timeout: 60_000 });
    expect(reloads).toBe(0);
    await expect(visitor.locator('#status').textContent()).resolves.toContain('Ready to download');
    await expect(visitor.locator('h1').textContent()).resolves.toBe(jpeg.name);
    await expect(visitor.locator('a#download').isVisible()).resolves.toBe(true);
    await visitor.screenshot({ path: screenshotPath('share-ready.png'), fullPage: true });
    expect(seenByVisitor.problems).toEqual([]);

    expect(await downloadFromSharePage(page, links[jpeg.name]!)).toBe(jpeg.sha256);
    expect(await downloadFromSharePage(page, links[bin.name]!)).toBe(bin.sha256);
    expect(seen.problems).toEqual([]);
    await context.close();
  });

  it('cancel stops the upload and leaves nothing in S3', async () => {
    const f = randomFile('cancel-me.bin', 40 * MIB);
    const { context, page } = await newPage(browser);
    await page.goto(stack.base);
    const hold = await holdParts(page, stack.s3, (url) => partNumberOf(url) === 1);
    await page.setInputFiles('#file-input', f.path);
    const r = row(page, f.name);
    await r.locator('input.share-url').waitFor({ state: 'visible' });
    const id = (await r.getAttribute('data-drop-id'))!;
    await expect.poll(() => stack.api.store.listMultipartUploads(dropKeys(id).prefix), { timeout: 15_000 }).toHaveLength(1);

    await r.getByRole('button', { name: `Cancel upload of ${f.name}` }).click();
    await expect.poll(() => r.getAttribute('data-state'), { timeout: 15_000 }).toBe('cancelled');
    await hold.release();
    expect(await stack.api.store.listMultipartUploads(dropKeys(id).prefix)).toEqual([]);
    expect((await stack.api.manifests.get(id))?.manifest.status).toBe('cancelled');
    expect(await page.evaluate(() => localStorage.getItem('dropship.unfinished.v1'))).toBeNull();
    await context.close();
  });

  it('finishes through retries when part uploads fail on the network', async () => {
    const f = randomFile('flaky-network.bin', 30 * MIB);
    const { context, page } = await newPage(browser);
    await page.goto(stack.base);
    // Every part's first attempt dies on the wire, as on a dropping connection.
    const failedOnce = new Set<number>();
    await page.route(`${stack.s3}/**`, async (route) => {
      const n = partNumberOf(route.request().url());
      if (route.request().method() === 'PUT' && !failedOnce.has(n)) {
        failedOnce.add(n);
        return route.abort('connectionreset');
      }
      return route.fallback();
    });
    await page.setInputFiles('#file-input', f.path);
    await expect.poll(() => stateOf(page, f.name), { timeout: 60_000 }).toBe('done');
    expect(failedOnce.size).toBe(6); // 30 MiB = 6 × 5 MiB
    const link = await row(page, f.name).locator('input.share-url').inputValue();
    expect(await downloadFromSharePage(page, link)).toBe(f.sha256);
    await context.close();
  });

  it('resumes after a reload when the same file is dropped again, sending only the missing parts', async () => {
    const f = randomFile('resume-me.bin', 30 * MIB);
    const { context, page } = await newPage(browser);
    await page.goto(stack.base);
    // Parts 1 and 2 go through, 3 to 6 never do: then the tab reloads.
    const hold = await holdParts(page, stack.s3, (url) => partNumberOf(url) <= 2);
    await page.setInputFiles('#file-input', f.path);
    const r = row(page, f.name);
    await r.locator('input.share-url').waitFor({ state: 'visible' });
    const id = (await r.getAttribute('data-drop-id'))!;
    const key = dropKeys(id).original;
    const uploadId = (await stack.api.manifests.get(id))!.manifest.upload.uploadId!;
    await expect.poll(async () => (await stack.api.store.listParts(key, uploadId))?.length, { timeout: 30_000 }).toBe(2);

    await page.reload();
    await hold.release();
    // The app remembers the unfinished upload and says how to continue it.
    await expect(page.locator('#resumable').isVisible()).resolves.toBe(true);
    await expect(page.locator('#resumable-list').textContent()).resolves.toContain(f.name);

    const sent = countPartBytes(page, stack.s3);
    await dropFiles(page, [f.path]);
    await expect.poll(() => stateOf(page, f.name), { timeout: 60_000 }).toBe('done');
    expect(await r.getAttribute('data-drop-id')).toBe(id);
    await expect.poll(() => sent.bytes, { timeout: 5_000 }).toBe(30 * MIB - 10 * MIB); // parts 3 to 6 only
    expect(sent.parts.sort()).toEqual([3, 4, 5, 6]);
    await expect(page.locator('#resumable').isHidden()).resolves.toBe(true);
    const link = await r.locator('input.share-url').inputValue();
    expect(await downloadFromSharePage(page, link)).toBe(f.sha256);
    await context.close();
  });

  it('works from the keyboard alone', async () => {
    const f = randomFile('from-the-keyboard.txt', 1000);
    const { context, page } = await newPage(browser);
    // Listen before the page exists: Playwright turns on file-chooser interception when the
    // first listener is added, asynchronously — a key pressed before that opens nothing.
    const chooserOpened = page.waitForEvent('filechooser', { timeout: 30_000 });
    await page.goto(stack.base);
    // Tab reaches "Choose files" first (after the home link); Space presses it. (Enter does
    // too in a real browser, but headless Chromium opens no file chooser for it.)
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Choose files');
    await page.keyboard.press('Space');
    const chooser = await chooserOpened;
    await chooser.setFiles(f.path);
    await expect.poll(() => stateOf(page, f.name), { timeout: 30_000 }).toBe('done');
    // Announced on the next animation frame after the region is emptied (so a repeat is read again).
    await expect.poll(() => page.locator('#announcer').textContent(), { timeout: 8_000 }).toMatch(/uploaded|Share link/);
    // Onwards to the share link's copy button.
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Copy link'; i++) {
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Copy link');
    await context.close();
  });

  it('fits a phone-sized screen', async () => {
    const f = randomFile('from-a-phone.txt', 1000);
    const { context, page } = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const chooserOpened = page.waitForEvent('filechooser', { timeout: 30_000 });
    await page.goto(stack.base);
    await page.tap('#pick');
    const chooser = await chooserOpened;
    await chooser.setFiles(f.path);
    await expect.poll(() => stateOf(page, f.name), { timeout: 30_000 }).toBe('done');
    // Nothing wider than the screen, and the link, copy button and QR code all on it.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    for (const sel of ['input.share-url', 'button.copy', 'canvas.qr']) {
      const box = (await row(page, f.name).locator(sel).boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    await page.screenshot({ path: screenshotPath('spa-phone.png'), fullPage: true });
    await context.close();
  });
});
