/**
 * Collections in headless Chromium against the real api, worker and emulator: three files
 * dropped together make one card with one collection link; the collection page lists all
 * three live; "Download all" writes a zip (built in the browser, streamed to a file the page
 * picked) whose entries are the files byte for byte; each file's own link still downloads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import type { Browser } from 'playwright-core';
import { DropshipClient } from '../../src/client/index.js';
import { fileSource } from '../../src/client/node.js';
import { dropFiles, holdParts, launch, newPage, photo, randomFile, readDownload, screenshotPath, sha256, startStack, watch, type Stack, type TestFile } from './support.js';

let stack: Stack;
let browser: Browser;
let files: TestFile[];

beforeAll(async () => {
  let jpeg: TestFile;
  [stack, browser, jpeg] = await Promise.all([startStack(), launch(), photo('holiday.jpg')]);
  files = [jpeg, randomFile('notes.bin', 200_000), randomFile('data-9mib.bin', 9 * 1024 * 1024)];
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/**
 * A stand-in for the File System Access API: `showSaveFilePicker` answers a file whose
 * writable keeps every chunk written, so the test can read the zip the page made.
 */
const FAKE_PICKER = `
  window.__saved = { name: undefined, chunks: [], closed: false, aborted: false };
  window.showSaveFilePicker = async (opts) => {
    window.__saved.name = opts && opts.suggestedName;
    return {
      async createWritable() {
        return new WritableStream({
          write(chunk) { window.__saved.chunks.push(chunk.slice()); },
          close() { window.__saved.closed = true; },
          abort() { window.__saved.aborted = true; },
        });
      },
    };
  };
`;

describe('collections in the browser', () => {
  it('three files dropped together: one link; its page lists them live; Download all zips them byte for byte', async () => {
    const { context, page } = await newPage(browser);
    const seen = watch(page);
    await page.goto(stack.base);
    // The bytes wait at S3's door until the collection page is open: it must show them arrive.
    const hold = await holdParts(page, stack.s3);
    await dropFiles(page, files.map((f) => f.path));

    // One card for the batch with one link and one QR code, and a compact row per file.
    const card = page.locator('li.batch');
    await expect.poll(() => card.count()).toBe(1);
    const link = card.locator('.batch-share input.share-url');
    await link.waitFor({ state: 'visible' });
    const shareUrl = await link.inputValue();
    expect(shareUrl).toMatch(new RegExp(`^${stack.base}/c/[A-Za-z0-9_-]{21}$`));
    expect(await page.locator('canvas.qr:visible').count()).toBe(1);
    expect(await card.locator('button.copy:visible').count()).toBe(1);
    expect(await card.locator('.batch-files li.upload.compact').count()).toBe(3);
    // "Your drops" remembers the batch once, as its collection, not file by file.
    await expect.poll(() => page.locator('#my-drops li.my-drop').count()).toBe(1);
    expect(await page.locator('#my-drops li.my-drop').getAttribute('data-kind')).toBe('collection');

    // Every drop joins the collection as soon as its ticket exists, before its bytes.
    const id = shareUrl.split('/').at(-1)!;
    await expect
      .poll(async () => (await (await fetch(`${stack.base}/v1/collections/${id}`)).json()).drops.map((d: { name: string }) => d.name).sort(), { timeout: 30_000 })
      .toEqual(files.map((f) => f.name).sort());

    // The collection page, with the picker stand-in installed before its script runs.
    const visitor = await newPage(browser);
    const seenVisitor = watch(visitor.page);
    await visitor.page.addInitScript(FAKE_PICKER);
    await visitor.page.goto(shareUrl);
    const rows = visitor.page.locator('#files li.file');
    expect(await rows.count()).toBe(3);
    expect(await visitor.page.locator('#files li.file[data-status="uploading"]').count()).toBe(3);
    expect(await visitor.page.locator('#name').textContent()).toBe('holiday.jpg and 2 more');
    await hold.release();

    await expect.poll(() => card.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    await card.screenshot({ path: screenshotPath('batch-card.png') });
    // Each file keeps a link of its own.
    const own = await card.locator('.row-link').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(own).toHaveLength(3);
    for (const href of own) expect(href).toMatch(new RegExp(`^${stack.base}/d/[A-Za-z0-9_-]{21}$`));

    // Live: every file reaches ready (and the photo its thumbnail) without a reload.
    await expect
      .poll(() => visitor.page.locator('#files li.file[data-status="ready"]').count(), { timeout: 60_000 })
      .toBe(3);
    await visitor.page.locator('#files li.file img.file-thumb').waitFor({ state: 'visible', timeout: 60_000 });
    for (const f of files) await expect.poll(() => visitor.page.locator('#files').textContent()).toContain(f.name);

    await visitor.page.setViewportSize({ width: 1280, height: 800 });
    await visitor.page.screenshot({ path: screenshotPath('collection-desktop.png'), fullPage: true });
    await visitor.page.setViewportSize({ width: 390, height: 844 });
    await visitor.page.screenshot({ path: screenshotPath('collection-phone.png'), fullPage: true });

    await visitor.page.locator('#download-all').click();
    await expect.poll(() => visitor.page.evaluate(() => (window as unknown as { __saved: { closed: boolean } }).__saved.closed), { timeout: 60_000 }).toBe(true);
    // The zip crosses from the page as base64 (a Blob read as a data: URL).
    const saved = await visitor.page.evaluate(async () => {
      const s = (window as unknown as { __saved: { name: string; chunks: Uint8Array[]; aborted: boolean } }).__saved;
      const url = await new Promise<string>((resolve) => {
        const r = new FileReader();
        r.onload = () => resolve(r.result as string);
        r.readAsDataURL(new Blob(s.chunks as BlobPart[]));
      });
      return { name: s.name, aborted: s.aborted, base64: url.slice(url.indexOf(',') + 1) };
    });
    expect(saved.name).toBe('holiday.jpg and 2 more.zip');
    expect(saved.aborted).toBe(false);
    const entries = unzipSync(new Uint8Array(Buffer.from(saved.base64, 'base64')));
    expect(Object.keys(entries).sort()).toEqual(files.map((f) => f.name).sort());
    for (const f of files) expect(sha256(entries[f.name]!)).toBe(f.sha256);
    expect(await visitor.page.locator('#zip-status').textContent()).toMatch(/Saved 3 files/);

    // Each file's own download link still gives its bytes.
    for (const f of files) {
      const [download] = await Promise.all([
        visitor.page.waitForEvent('download'),
        visitor.page.locator('#files li.file', { hasText: f.name }).locator('a.file-download').click(),
      ]);
      expect(readDownload((await download.path())!)).toBe(f.sha256);
    }

    expect(seen.problems).toEqual([]);
    expect(seenVisitor.problems).toEqual([]);
    await visitor.context.close();
    await context.close();
  }, 180_000);

  it('without the File System Access API, Download all downloads the files one after another', async () => {
    const client = new DropshipClient({ baseUrl: stack.base });
    const refs = [];
    for (const f of files.slice(1)) {
      let ownerToken = '';
      const v = await client.upload(await fileSource(f.path), { onTicket: (t) => void (ownerToken = t.ownerToken) });
      refs.push({ id: v.id, ownerToken });
    }
    const c = await client.createCollection({ title: 'Two files', drops: refs });
    const { context, page } = await newPage(browser);
    const seen = watch(page);
    await page.addInitScript('delete window.showSaveFilePicker;');
    await page.goto(c.shareUrl);
    const got: string[] = [];
    page.on('download', (d) => void d.path().then((p) => got.push(readDownload(p!))));
    await page.locator('#download-all').click();
    await expect.poll(() => got.length, { timeout: 30_000 }).toBe(2);
    expect(got.sort()).toEqual(files.slice(1).map((f) => f.sha256).sort());
    // The last download is followed by a pause of its own (1.2 s) before the closing line.
    await expect.poll(() => page.locator('#zip-status').textContent(), { timeout: 15_000 }).toMatch(/one by one/);
    expect(seen.problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('a single file keeps its own card; an unknown collection is a 404 page, a deleted one 410', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(stack.base);
    await page.setInputFiles('#file-input', files[1]!.path);
    await page.locator('li.upload input.share-url').waitFor({ state: 'visible' });
    expect(await page.locator('li.batch').count()).toBe(0);
    expect(await page.locator('li.upload input.share-url').inputValue()).toMatch(/\/d\//);

    const missing = await page.goto(`${stack.base}/c/AAAAAAAAAAAAAAAAAAAAA`);
    expect(missing?.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('No such collection');

    const created = (await (await fetch(`${stack.base}/v1/collections`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as {
      id: string;
      ownerToken: string;
    };
    await fetch(`${stack.base}/v1/collections/${created.id}`, { method: 'DELETE', headers: { 'x-owner-token': created.ownerToken } });
    const gone = await page.goto(`${stack.base}/c/${created.id}`);
    expect(gone?.status()).toBe(410);
    expect(await page.locator('h1').textContent()).toBe('This collection was deleted');
    await context.close();
  }, 60_000);
});
