/**
 * What the browser tests share: headless Debian Chromium (playwright-core, no downloaded
 * browsers), an api + in-process worker on their own bucket and queue (so the integration
 * suite's queue purges and workers never meet ours), test files, and helpers to watch and
 * steer the browser's requests to S3.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page, type Request, type Route } from 'playwright-core';
import pino from 'pino';
import sharp from 'sharp';
import { provision, provisionOptions } from '../../src/aws/provision.js';
import { createAwsClients, destroyAwsClients } from '../../src/aws/clients.js';
import { s3Origin } from '../../src/api/share/csp.js';
import type { RunningWorker } from '../../src/worker/worker.js';
import { startTestWorker } from '../support/worker.js';
import { startApi, type TestApi } from '../support/app.js';
import { testConfig } from '../support/env.js';

export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
export const UPPY_PAGE = join(ARTIFACTS, 'uppy-page');

/** The e2e run's own bucket and queues. */
export const E2E_ENV = {
  DROPSHIP_BUCKET: 'dropship-e2e',
  DROPSHIP_QUEUE_NAME: 'dropship-e2e-events',
  DROPSHIP_DLQ_NAME: 'dropship-e2e-events-dlq',
  // Short redelivery and backoff: a message that raced the manifest write comes back fast.
  DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '10',
  DROPSHIP_WORKER_RETRY_DELAY: '0',
};

export interface Stack {
  api: TestApi;
  base: string;
  s3: string;
  worker: RunningWorker;
  close(): Promise<void>;
}

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const config = testConfig({ ...E2E_ENV, ...env });
  const aws = createAwsClients(config);
  const { queueUrl } = await provision(aws, provisionOptions(config));
  const api = await startApi({ ...E2E_ENV, ...env });
  const worker = startTestWorker({ config, queueUrl, log: pino({ level: 'warn' }) });
  return {
    api,
    base: api.base,
    s3: s3Origin(api.config),
    worker,
    async close() {
      await worker.stop();
      destroyAwsClients(aws);
      await api.close();
    },
  };
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.DROPSHIP_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Console errors, page errors and dialogs of a page: a CSP violation shows up in the first. */
export function watch(page: Page) {
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return { problems, dialogs };
}

export async function newPage(browser: Browser, opts: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ acceptDownloads: true, ...opts });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return { context, page };
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface TestFile {
  path: string;
  name: string;
  size: number;
  sha256: string;
}

const dir = mkdtempSync(join(tmpdir(), 'dropship-e2e-'));

export function writeTestFile(name: string, data: Uint8Array): TestFile {
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, name, size: data.length, sha256: sha256(data) };
}

export const randomFile = (name: string, size: number) => writeTestFile(name, randomBytes(size));

/**
 * A 4000×3000 (12 MP) JPEG that looks like something (sky, sun, hills — so a wrong crop or
 * rotation of the thumbnail shows in the screenshot) with sensor-like noise, so it weighs
 * what a photo weighs.
 */
export async function photo(name = 'photo-12mp.jpg'): Promise<TestFile> {
  const width = 4000;
  const height = 3000;
  // Drawn small and scaled up: rendering the SVG at 12 MP would take seconds.
  const scene = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#1d4e9e"/><stop offset="1" stop-color="#f6b26b"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#sky)"/>
    <circle cx="2900" cy="900" r="420" fill="#ffd966"/>
    <path d="M0 2100 Q 1000 1500 2000 2000 T 4000 1900 V 3000 H 0 Z" fill="#38761d"/>
    <path d="M0 2500 Q 1400 2100 2600 2550 T 4000 2400 V 3000 H 0 Z" fill="#274e13"/>
  </svg>`);
  // Uniform noise of ±32 around mid-grey (sharp's gaussian generator takes seconds at 12 MP).
  const noise = randomBytes(width * height * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = 96 + (noise[i]! >> 2);
  const small = await sharp(scene, { density: 7.2 }).raw().toBuffer({ resolveWithObject: true });
  const jpeg = await sharp(small.data, { raw: small.info })
    .resize(width, height)
    .composite([{ input: noise, raw: { width, height, channels: 3 }, blend: 'soft-light' }])
    .jpeg({ quality: 90 })
    .toBuffer();
  return writeTestFile(name, jpeg);
}

export function readDownload(path: string): string {
  return sha256(readFileSync(path));
}

/** Part PUTs the page sends to S3, with their part number (1 for a single PUT). */
export function isPartPut(req: Request, s3: string): boolean {
  return req.method() === 'PUT' && req.url().startsWith(s3);
}
export function partNumberOf(url: string): number {
  return Number(new URL(url).searchParams.get('partNumber') ?? '1');
}

/**
 * Bytes of part PUTs the page put on the wire from now on, from each request's
 * Content-Length as sent (Chromium reports no body size for Blob bodies).
 */
export function countPartBytes(page: Page, s3: string) {
  const counted = { bytes: 0, parts: [] as number[] };
  page.on('request', (req) => {
    if (!isPartPut(req, s3)) return;
    void req
      .headerValue('content-length')
      .then((v) => {
        counted.bytes += Number(v ?? 0);
        counted.parts.push(partNumberOf(req.url()));
      })
      .catch(() => {});
  });
  return counted;
}

/**
 * Holds the page's part PUTs to S3 until `release()`, except those `pass` lets through:
 * how a test keeps an upload "mid-way" for as long as it needs without sleeping.
 */
export async function holdParts(page: Page, s3: string, pass: (url: string) => boolean = () => false) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let held = 0;
  const handler = async (route: Route) => {
    const req = route.request();
    if (req.method() !== 'PUT' || pass(req.url())) return route.fallback();
    held++;
    await gate;
    // The page may have given up on the request meanwhile (cancel, reload).
    await route.fallback().catch(() => {});
  };
  await page.route(`${s3}/**`, handler);
  return {
    get held() {
      return held;
    },
    async release() {
      open();
      await page.unroute(`${s3}/**`, handler);
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/**
 * Adds files to the SPA by a real drop event: the files enter the page through a scratch
 * <input> (the only way a test can hand it OS files) and are dropped on the drop zone in a
 * DataTransfer, as a drag from the desktop would.
 */
export async function dropFiles(page: Page, paths: string[]) {
  await page.evaluate(() => {
    const i = document.createElement('input');
    i.type = 'file';
    i.multiple = true;
    i.id = 'e2e-staging';
    i.hidden = true;
    document.body.append(i);
  });
  await page.setInputFiles('#e2e-staging', paths);
  await page.evaluate(() => {
    const staging = document.getElementById('e2e-staging') as HTMLInputElement;
    const dt = new DataTransfer();
    for (const f of staging.files ?? []) dt.items.add(f);
    staging.remove();
    const zone = document.getElementById('drop-zone')!;
    for (const type of ['dragenter', 'dragover', 'drop']) {
      zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  });
}
