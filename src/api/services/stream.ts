/**
 * Path B: a request body streamed through the api into S3 (`curl -T`), with the classic
 * safeguards made explicit:
 *
 * - bounded buffer: at most (parts in flight + 1) × part size bytes per upload, whatever
 *   the file's size;
 * - backpressure: the body is pulled with `for await`; while S3 is behind, nothing is
 *   pulled, the socket's buffer fills and TCP stops the client;
 * - idle timeout: a client silent for the configured time is cut;
 * - size limit: a body crossing the limit is cut (Content-Length over it is refused by
 *   the route before reading);
 * - rollback: on any failure the multipart upload is aborted, any published object
 *   deleted and the manifest marked cancelled — the caller only ever gets a share link
 *   after S3 holds every byte.
 *
 * Why our own pipeline rather than the SDK's lib-storage Upload: the manifest must carry the final
 * size before the object is published (the worker checks it on the S3 event), and a
 * chunked body's size is only known at its end; lib-storage completes the upload itself.
 */
import type { Readable } from 'node:stream';
import { dropKeys } from '../../core/layout.js';
import { fail } from '../../core/errors.js';
import { hashOwnerToken, newDropId, newOwnerToken } from '../../core/ids.js';
import { newManifest, type Manifest } from '../../core/manifest.js';
import { streamPartSize } from '../../core/parts.js';
import { dropDeadlines } from '../../core/retention.js';
import { indexExpiry } from '../../ports/expiry-index.js';
import type { Config } from '../../config.js';
import type { Clock } from '../../ports/clock.js';
import type { EventOutcome, ManifestRepo } from '../../ports/manifests.js';
import type { ObjectStore } from '../../ports/object-store.js';

export interface StreamResult {
  manifest: Manifest;
  ownerToken: string;
  bytes: number;
}

export interface StreamStats {
  active: number;
  bytesReceived: number;
}

/** The manifest after an event the upload needs; anything else (cancelled meanwhile, gone) aborts it. */
function must(r: EventOutcome | undefined): Manifest {
  if (!r?.ok) throw fail('DROP_NOT_UPLOADING', `the drop is ${r?.from ?? 'gone'}`);
  return r.manifest;
}

export function createStreamService(deps: {
  config: Config;
  store: ObjectStore;
  manifests: ManifestRepo;
  clock: Clock;
}) {
  const { config, store, manifests, clock } = deps;
  const stats: StreamStats = { active: 0, bytesReceived: 0 };

  /**
   * S3 may still be storing a part when the upload is aborted, and then keeps it: abort,
   * check the upload is really gone, and repeat (S3's documented caveat).
   */
  async function abortFully(key: string, uploadId: string) {
    for (let i = 0; i < 5; i++) {
      await store.abortMultipart(key, uploadId);
      if ((await store.listParts(key, uploadId)) === undefined) return;
      await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
  }

  async function rollback(m: Manifest, uploadId: string | undefined, published: boolean) {
    const key = dropKeys(m.id).original;
    await Promise.allSettled([
      uploadId ? abortFully(key, uploadId) : Promise.resolve(),
      published ? store.deleteKeys([key]) : Promise.resolve(),
      manifests.applyEvent(m.id, { type: 'cancel', at: clock() }),
    ]);
  }

  return {
    stats,

    /** Slots are taken by the route before the body is read; this only counts them. */
    tryAcquire(): boolean {
      if (stats.active >= config.DROPSHIP_STREAM_SLOTS) return false;
      stats.active++;
      return true;
    },
    release() {
      stats.active = Math.max(0, stats.active - 1);
    },

    async upload(body: Readable, opts: { name: string; type: string; length?: number; onIdle: () => void }): Promise<StreamResult> {
      const limit = Math.min(config.DROPSHIP_STREAM_MAX_SIZE, config.DROPSHIP_MAX_FILE_SIZE);
      const partSize = streamPartSize(opts.length);
      const now = clock();
      const id = newDropId();
      const ownerToken = newOwnerToken();
      const key = dropKeys(id).original;
      // The streaming route takes no options: its drops get the default lifetime.
      const lifetime = config.DROPSHIP_DEFAULT_EXPIRES_IN || undefined;
      const deadlines = dropDeadlines(now, lifetime, config.DROPSHIP_TICKET_TTL);
      const manifest = newManifest({
        id,
        name: opts.name,
        size: opts.length ?? 0,
        type: opts.type,
        ownerTokenHash: hashOwnerToken(ownerToken),
        upload: { mode: 'multipart', partSize, partCount: 0 },
        source: 'stream',
        now,
        ...deadlines,
      });
      if (deadlines.expiresAt) await indexExpiry(store, manifest, deadlines.expiresAt);
      await manifests.create(manifest);

      const abort = new AbortController();
      let uploadId: string | undefined;
      let published = false;
      const etags: { partNumber: number; etag: string }[] = [];
      const inFlight = new Set<Promise<void>>();
      let firstError: unknown;
      let idle: NodeJS.Timeout | undefined;
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          opts.onIdle();
          body.destroy(fail('STREAM_IDLE_TIMEOUT', `no data for ${config.DROPSHIP_STREAM_IDLE_TIMEOUT_MS} ms`));
        }, config.DROPSHIP_STREAM_IDLE_TIMEOUT_MS);
      };

      const sendPart = async (partNumber: number, data: Buffer) => {
        if (!uploadId) {
          uploadId = await store.createMultipart(key, 'application/octet-stream');
          const known = uploadId;
          // Record the upload so a DELETE, an expiry or a restart can abort it.
          must(await manifests.applyEvent(id, { type: 'upload_started', at: clock(), uploadId: known }));
        }
        const p = store
          .uploadPart(key, uploadId, partNumber, data, abort.signal)
          .then((etag) => void etags.push({ partNumber, etag }))
          .catch((e: unknown) => {
            firstError ??= e;
          });
        const tracked = p.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
        // Backpressure: stop pulling from the socket until a slot frees up.
        while (inFlight.size >= config.DROPSHIP_STREAM_PARTS_IN_FLIGHT) await Promise.race(inFlight);
        if (firstError) throw firstError;
      };

      let total = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let partNumber = 0;
      const takePart = (): Buffer => {
        const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        const part = all.subarray(0, partSize);
        const rest = all.subarray(partSize);
        pending = rest.length ? [Buffer.from(rest)] : [];
        pendingBytes = rest.length;
        return part;
      };

      try {
        armIdle();
        for await (const chunk of body as AsyncIterable<Buffer>) {
          armIdle();
          total += chunk.length;
          stats.bytesReceived += chunk.length;
          if (total > limit) throw fail('FILE_TOO_LARGE', `the body is larger than ${limit} bytes`, { maxSize: limit });
          if (opts.length !== undefined && total > opts.length) {
            throw fail('LENGTH_MISMATCH', 'the body is longer than its Content-Length');
          }
          pending.push(chunk);
          pendingBytes += chunk.length;
          while (pendingBytes >= partSize && (pendingBytes > partSize || uploadId || opts.length === undefined || total < opts.length)) {
            // Keep the last full part back until we know whether more follows: a body of
            // exactly one part is stored with a single PUT.
            await sendPart(++partNumber, takePart());
          }
        }
        clearTimeout(idle);
        if (opts.length !== undefined && total !== opts.length) {
          throw fail('LENGTH_MISMATCH', `the body ended after ${total} of ${opts.length} bytes`);
        }
        const size = total;
        if (!uploadId) {
          // The whole body fits in one part: a single PutObject, no multipart upload.
          must(await manifests.applyEvent(id, { type: 'measured', at: clock(), size, upload: { mode: 'single', partSize: size, partCount: 1 } }));
          const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
          await store.put(key, data, { contentType: 'application/octet-stream', signal: abort.signal });
          published = true;
        } else {
          if (pendingBytes > 0) await sendPart(++partNumber, takePart());
          while (inFlight.size) await Promise.race(inFlight);
          if (firstError) throw firstError;
          // The size must be in the manifest before the object exists: the worker checks it.
          must(await manifests.applyEvent(id, { type: 'measured', at: clock(), size, upload: { mode: 'multipart', partSize, partCount: partNumber } }));
          await store.completeMultipart(key, uploadId, etags.sort((a, b) => a.partNumber - b.partNumber));
          published = true;
        }
        const done = must(await manifests.applyEvent(id, { type: 'complete', at: clock() }));
        return { manifest: done, ownerToken, bytes: size };
      } catch (e) {
        clearTimeout(idle);
        // Let parts already on their way land (at most a few, bounded by a deadline) so the
        // abort that follows is the last word; then cut whatever is still running.
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => setTimeout(r, 10_000))]);
        abort.abort();
        await rollback(manifest, uploadId, published);
        throw e;
      }
    },
  };
}

export type StreamService = ReturnType<typeof createStreamService>;
