/**
 * Path B: a request body streamed through the api into S3 (`curl -T`), with the classic
 * safeguards made explicit (one file, over 300 lines, because the safeguards only hold
 * together: slots, pace, buffer, backpressure and rollback share one upload's state):
 *
 * - bounded buffer: at most (parts in flight + 1) × part size bytes per upload, whatever
 *   the file's size;
 * - backpressure: the body is pulled with `for await`; while S3 is behind, nothing is
 *   pulled, the socket's buffer fills and TCP stops the client;
 * - idle timeout: a client silent for the configured time is cut;
 * - pace: a client must average DROPSHIP_STREAM_MIN_BYTES_PER_S over every
 *   DROPSHIP_STREAM_RATE_WINDOW_MS of its own time (backpressure not counted;
 *   src/core/pace.ts) and finish within DROPSHIP_STREAM_MAX_DURATION_MS, or it is cut (408);
 * - slots: DROPSHIP_STREAM_SLOTS per process and DROPSHIP_STREAM_SLOTS_PER_CLIENT per
 *   client (API key or address, IPv6 /64). When every slot is taken, a newcomer takes the
 *   slot of the slowest stream that is already below the minimum rate (it would be cut at
 *   the end of its window anyway) — so trickling connections cannot keep a fast client out.
 *   The slots are counted in the `streams` pool (services/connections.ts): per process, or
 *   across every replica with DROPSHIP_REDIS_URL; a replica can only displace a starving
 *   stream of its own;
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
import { fail, type DropshipError } from '../../core/errors.js';
import { checkPace, isStarving, pause, received, resume, startPace, type Pace, type PaceLimits } from '../../core/pace.js';
import { hashOwnerToken, newDropId, newOwnerToken } from '../../core/ids.js';
import { newManifest, type Manifest } from '../../core/manifest.js';
import { streamPartSize } from '../../core/parts.js';
import { dropDeadlines } from '../../core/retention.js';
import { indexExpiry } from '../../ports/expiry-index.js';
import { indexForKey, unindexForKey } from '../../ports/key-index.js';
import { lifetimeLimits, maxFileSize } from '../../core/policy.js';
import type { ApiKey, Config } from '../../config.js';
import type { Clock } from '../../ports/clock.js';
import type { EventOutcome, ManifestRepo } from '../../ports/manifests.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { CountedSlots } from '../../ports/slots.js';
import { ConnectionCounts } from './connections.js';

export interface StreamResult {
  manifest: Manifest;
  ownerToken: string;
  bytes: number;
}

export interface StreamStats {
  active: number;
  bytesReceived: number;
  /** Streams cut for being too slow or too long, and slots taken from starving streams. */
  cut: number;
  evicted: number;
}

/** One streaming upload's hold on a slot: its client, its pace, and how to cut it. */
export interface StreamSlot {
  readonly client: string;
  pace: Pace;
  /** Set by `upload` while the body is being read. */
  cut?: (e: DropshipError) => void;
  release(): void;
}

const RETRY_AFTER_S = 5;
const monotonic = () => performance.now();

/** The bytes of `chunks` as one buffer, without a copy when there is only one. */
function joined(chunks: Buffer[], bytes: number): Buffer {
  // Stryker disable next-line ConditionalExpression: concatenating one buffer gives the same bytes (this only saves the copy).
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
}

/** The manifest after an event the upload needs; anything else (cancelled meanwhile, gone) aborts it. */
function must(r: EventOutcome | undefined): Manifest {
  if (!r?.ok) throw fail('DROP_NOT_UPLOADING', `the drop is ${r?.from ?? 'gone'}`);
  return r.manifest;
}

/** The pool the streaming uploads count in. */
// Stryker disable next-line StringLiteral: any name is a pool of its own; only the other pools' names must differ.
export const STREAMS_POOL = 'streams';

export function createStreamService(deps: {
  config: Config;
  store: ObjectStore;
  manifests: ManifestRepo;
  clock: Clock;
  /** Where the slots are counted: this process's memory, or shared by every replica. */
  slots: CountedSlots;
}) {
  const { config, store, manifests, clock } = deps;
  const counts = new ConnectionCounts(deps.slots, STREAMS_POOL, clock, config.DROPSHIP_SLOT_LEASE_MS);
  /** This process's streams (their pace decides which one a newcomer may displace). */
  const active = new Set<StreamSlot>();
  const counters = { bytesReceived: 0, cut: 0, evicted: 0 };
  const stats: StreamStats = {
    get active() {
      return active.size;
    },
    get bytesReceived() {
      return counters.bytesReceived;
    },
    get cut() {
      return counters.cut;
    },
    get evicted() {
      return counters.evicted;
    },
  } as StreamStats;
  const paceLimits: PaceLimits = {
    minBytesPerSecond: config.DROPSHIP_STREAM_MIN_BYTES_PER_S,
    windowMs: config.DROPSHIP_STREAM_RATE_WINDOW_MS,
    maxDurationMs: config.DROPSHIP_STREAM_MAX_DURATION_MS,
  };
  const limits = { perClient: config.DROPSHIP_STREAM_SLOTS_PER_CLIENT, total: config.DROPSHIP_STREAM_SLOTS };

  /** The slowest stream already below the minimum rate, if any: the one a newcomer may displace. */
  function starving(): StreamSlot | undefined {
    const t = monotonic();
    const rate = (a: StreamSlot) => a.pace.windowBytes / Math.max(1, t - a.pace.windowStartedAt);
    return [...active].filter((a) => a.cut && isStarving(a.pace, t, paceLimits)).sort((a, b) => rate(a) - rate(b))[0];
  }

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
      unindexForKey(store, m),
    ]);
  }

  return {
    stats,

    /** Whether a newcomer would find no slot at all (for `Expect: 100-continue`, before the client is known). */
    async full(): Promise<boolean> {
      // Counts out of reach: not "full" here; the handler's acquire answers for itself.
      const open = await counts.counts('').catch(() => undefined);
      return open !== undefined && open.total >= limits.total && !starving();
    },

    /**
     * Takes a slot for `client` before the body is read: 503 STREAM_SLOTS_FULL when the
     * pool is full and no stream of this process is starving, 429 TOO_MANY_STREAMS when the
     * client holds its share. A full pool first cuts the slowest starving stream and takes
     * its slot.
     */
    async acquire(client: string): Promise<StreamSlot> {
      let d = await counts.take(client, limits);
      if (!d.ok && d.reason === 'total') {
        const victim = starving();
        if (victim) {
          victim.release();
          counters.evicted++;
          victim.cut!(fail('STREAM_TOO_SLOW', `slower than ${config.DROPSHIP_STREAM_MIN_BYTES_PER_S} bytes/s while others wait for a slot`));
          d = await counts.take(client, limits);
        }
      }
      if (!d.ok) {
        throw d.reason === 'total'
          ? fail('STREAM_SLOTS_FULL', 'all streaming upload slots are busy; retry shortly', {}, RETRY_AFTER_S)
          : fail('TOO_MANY_STREAMS', `at most ${limits.perClient} streaming uploads per client at once`, { max: limits.perClient }, d.retryAfter);
      }
      const held = d;
      const slot: StreamSlot = {
        client,
        pace: startPace(monotonic()),
        release: () => {
          active.delete(slot);
          held.release();
        },
      };
      active.add(slot);
      return slot;
    },

    /**
     * Streams `body` into a new drop. `key` is the verified uploader's API key: its size limit
     * cuts the body, its default lifetime is the drop's, its id and allowed types go into the
     * manifest (the route has checked the declared type and Content-Length already).
     */
    async upload(
      body: Readable,
      opts: { name: string; type: string; length?: number; onIdle: () => void; slot?: StreamSlot; key?: ApiKey; passwordHash?: string },
    ): Promise<StreamResult> {
      const limit = maxFileSize(opts.key, Math.min(config.DROPSHIP_STREAM_MAX_SIZE, config.DROPSHIP_MAX_FILE_SIZE));
      const partSize = streamPartSize(opts.length);
      const now = clock();
      const id = newDropId();
      const ownerToken = newOwnerToken();
      const key = dropKeys(id).original;
      // The streaming route takes no options: its drops get the (key's) default lifetime.
      const limits = lifetimeLimits(opts.key, { defaultSeconds: config.DROPSHIP_DEFAULT_EXPIRES_IN, maxSeconds: config.DROPSHIP_MAX_EXPIRES_IN });
      const lifetime = limits.defaultSeconds || undefined;
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
        ...(opts.key && { keyId: opts.key.id }),
        ...(opts.key?.allowedTypes && { allowedTypes: opts.key.allowedTypes }),
        ...(opts.passwordHash !== undefined && { passwordHash: opts.passwordHash }),
      });
      if (deadlines.expiresAt) await indexExpiry(store, manifest, deadlines.expiresAt);
      await indexForKey(store, manifest);
      try {
        await manifests.create(manifest);
      } catch (e) {
        await unindexForKey(store, manifest).catch(() => {});
        throw e;
      }

      const abort = new AbortController();
      let uploadId: string | undefined;
      // Stryker disable next-line BooleanLiteral: the key is this new drop's own; deleting it before anything is published deletes nothing.
      let published = false;
      const etags: { partNumber: number; etag: string }[] = [];
      const inFlight = new Set<Promise<void>>();
      let firstError: unknown;
      let idle: NodeJS.Timeout | undefined;
      const slot = opts.slot;
      let paceTimer: NodeJS.Timeout | undefined;
      // A pace cut stops reading and answers (408 with the reason, then the connection
      // closes) instead of resetting the socket, so the client learns why.
      //
      // Each read waits on its own promise, which a cut rejects. (Racing every read against one
      // promise that lives as long as the upload would keep every chunk read: each race leaves a
      // reaction on the long-lived promise that holds its result, and with it the chunk.)
      let cutError: DropshipError | undefined;
      let rejectRead: ((e: unknown) => void) | undefined;
      const cut = (e: DropshipError) => {
        counters.cut++;
        cutError ??= e;
        rejectRead?.(cutError);
      };
      if (slot) {
        slot.pace = startPace(monotonic());
        slot.cut = cut;
        paceTimer = setInterval(
          () => {
            const { verdict, pace } = checkPace(slot.pace, monotonic(), paceLimits);
            slot.pace = pace;
            if (verdict === 'too-slow') {
              cut(fail('STREAM_TOO_SLOW', `slower than ${config.DROPSHIP_STREAM_MIN_BYTES_PER_S} bytes/s over ${config.DROPSHIP_STREAM_RATE_WINDOW_MS} ms`));
            } else if (verdict === 'too-long') {
              cut(fail('STREAM_TOO_LONG', `a streaming upload may take at most ${config.DROPSHIP_STREAM_MAX_DURATION_MS} ms`));
            }
          },
          Math.min(1000, Math.ceil(config.DROPSHIP_STREAM_RATE_WINDOW_MS / 4)),
        );
      }
      const stopPace = () => {
        clearInterval(paceTimer);
        if (slot) delete slot.cut;
      };
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
        const all = joined(pending, pendingBytes);
        const part = all.subarray(0, partSize);
        const rest = all.subarray(partSize);
        pending = rest.length ? [Buffer.from(rest)] : [];
        pendingBytes = rest.length;
        return part;
      };

      try {
        armIdle();
        const chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        const read = () =>
          new Promise<IteratorResult<Buffer>>((resolve, reject) => {
            if (cutError) return reject(cutError);
            rejectRead = reject;
            chunks.next().then(resolve, reject);
          }).finally(() => (rejectRead = undefined));
        for (;;) {
          const next = await read();
          if (next.done) break;
          const chunk = next.value;
          armIdle();
          total += chunk.length;
          counters.bytesReceived += chunk.length;
          if (slot) slot.pace = received(slot.pace, chunk.length);
          if (total > limit) throw fail('FILE_TOO_LARGE', `the body is larger than ${limit} bytes`, { maxSize: limit });
          if (total > (opts.length ?? Number.POSITIVE_INFINITY)) {
            throw fail('LENGTH_MISMATCH', 'the body is longer than its Content-Length');
          }
          pending.push(chunk);
          pendingBytes += chunk.length;
          while (
            pendingBytes >= partSize &&
            (pendingBytes > partSize ||
              // Stryker disable next-line ConditionalExpression: this alone decides only for the last full part of a body whose length is reached, the same part sent here or after the loop.
              uploadId ||
              opts.length === undefined ||
              total < opts.length)
          ) {
            // Keep the last full part back until we know whether more follows: a body of
            // exactly one part is stored with a single PUT.
            // Our own wait (S3 behind, backpressure) is not the client's: it does not count
            // against its pace.
            if (slot) slot.pace = pause(slot.pace, monotonic());
            await sendPart(++partNumber, takePart());
            if (slot) slot.pace = resume(slot.pace, monotonic());
          }
        }
        clearTimeout(idle);
        stopPace();
        if (opts.length !== undefined && total !== opts.length) {
          throw fail('LENGTH_MISMATCH', `the body ended after ${total} of ${opts.length} bytes`);
        }
        const size = total;
        if (!uploadId) {
          // The whole body fits in one part: a single PutObject, no multipart upload.
          must(await manifests.applyEvent(id, { type: 'measured', at: clock(), size, upload: { mode: 'single', partSize: size, partCount: 1 } }));
          const data = joined(pending, pendingBytes);
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
        stopPace();
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
