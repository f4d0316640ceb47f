/**
 * The real app on in-memory adapters, for route tests through `inject` in the unit project:
 * no emulator, a clock the test moves, and a `put` that sends bytes to a signed URL the way a
 * client would (S3's answers: 200, or 403 for a wrong length, a tampered or expired URL).
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { memoryAdapters, type MemoryAdapters } from '../../src/memory/index.js';
import { testManifests, type TestManifests } from './manifests.js';
import type { CountedSlots } from '../../src/ports/slots.js';

export interface MemoryApp extends MemoryAdapters {
  app: FastifyInstance;
  config: Config;
  manifests: TestManifests;
  /** The app's clock; `advance` moves it. */
  now(): Date;
  advance(seconds: number): void;
  /** A JSON request; `owner` sends X-Owner-Token. */
  call(method: string, url: string, opts?: { body?: unknown; owner?: string; headers?: Record<string, string> }): Promise<LightMyRequestResponse & { json<T = Json>(): T }>;
  /** PUTs bytes to a signed URL as a client would, with the part entry's `headers`. */
  put(url: string, bytes: Buffer, headers?: Record<string, string>): Promise<{ status: number; etag?: string }>;
  close(): Promise<void>;
}

/** What tests read of a JSON answer: loose on purpose, each assertion says what it expects. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const T0 = new Date('2030-01-01T00:00:00.000Z');

/** `keysFile`: the keys file's content (DROPSHIP_KEYS_FILE), read from memory; `slots`: where the limits are counted. */
export async function memoryApp(env: Record<string, string> = {}, opts: { keysFile?: unknown; slots?: CountedSlots } = {}): Promise<MemoryApp> {
  const config = loadConfig(
    {
      DROPSHIP_BUCKET: 'memory',
      DROPSHIP_PUBLIC_UPLOADS: 'true',
      DROPSHIP_PUBLIC_URL: 'http://drops.test',
      LOG_LEVEL: 'warn',
      ...(opts.keysFile !== undefined && { DROPSHIP_KEYS_FILE: 'keys.json' }),
      ...env,
    },
    { readFile: () => JSON.stringify(opts.keysFile) },
  );
  // `slots`: counts of the test's own (e.g. marked shared, as with Redis); default this app's.
  const adapters = { ...memoryAdapters(config.DROPSHIP_BUCKET), ...(opts.slots ? { slots: opts.slots } : {}) };
  let t = T0.getTime();
  const now = () => new Date(t);
  const app = await buildApp({ config, ...adapters, clock: now, logger: false });
  await app.ready();
  return {
    ...adapters,
    app,
    config,
    manifests: testManifests(adapters.store),
    now,
    advance: (seconds) => void (t += seconds * 1000),
    async call(method, url, opts = {}) {
      return app.inject({
        method: method as 'GET',
        url,
        headers: { ...(opts.owner ? { 'x-owner-token': opts.owner } : {}), ...opts.headers },
        ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
      }) as never;
    },
    put: (url, bytes, headers) => adapters.signer.present('PUT', url, bytes, now(), headers),
    close: () => app.close(),
  };
}
