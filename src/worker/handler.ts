/**
 * One S3 event message → an outcome. Depends only on ports (ObjectStore, ManifestRepo),
 * settings and a logger, so the same function serves the long-running consumer (worker.ts)
 * and AWS Lambda (lambda.ts).
 *
 * Delivery is at-least-once, so every step is idempotent:
 *   0. a form upload (drops/{id}/posted/original, Uppy's POST policy) is published first:
 *      the first one recorded in the manifest (`posted`, by ETag) is copied to the original —
 *      only while it still has that ETag — and removed; its copy's own event then runs the
 *      steps below. A replayed POST (another ETag, or a drop past uploading) is only removed,
 *      so the bytes behind a drop never change: only the worker writes a form drop's original;
 *   1. read the manifest; ready/failed → HEAD the object: the one verified (a duplicate
 *      event) → skip, writing nothing; other bytes under a ready drop → mark it failed
 *      (`replaced`) and then delete them with the thumbnails; any bytes under a failed drop
 *      → delete them. cancelled/expired → delete the bytes, no manifest → skip;
 *   2. HEAD the object; a size other than the manifest's → delete it and mark the drop failed
 *      (in that order: if the worker dies in between, the redelivered message finds the
 *      object missing and still ends in failed, where the other order would leave the bytes);
 *   3. sniff the type from the first bytes — the client's Content-Type is never trusted; a
 *      type the creating key may not upload (the manifest's allowedTypes) deletes the object
 *      and fails the drop, as a wrong size does;
 *   4. images: decode once (an SVG: checked, then drawn in a child process), write every thumbnail, then record the result with one
 *      conditional manifest write (thumbnails first, so a reader who sees `ready` finds them);
 *      a bad image only makes `thumbnail: failed` — the file itself is fine.
 *   5. a drop that ends ready or failed — now, or already before this message (a duplicate
 *      event) — has its webhook deliveries enqueued (`announce`) before the message is
 *      deleted: a worker killed between the manifest write and the enqueue leaves the message
 *      on the queue, and its redelivery takes the duplicate path, which enqueues them again
 *      (same webhook-ids: receivers de-duplicate). See docs/webhooks.md.
 * Anything thrown (S3 5xx, throttling, network, a manifest that is not JSON, an enqueue that
 * failed) becomes `retry`: the message returns after a backoff and, after the queue's
 * maxReceiveCount, goes to the DLQ.
 */
import { fileTypeFromBuffer } from 'file-type';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { PreconditionFailed, type ObjectStore } from '../ports/object-store.js';
import type { ManifestRepo } from '../ports/manifests.js';
import type { Clock } from '../ports/clock.js';
import { parseS3EventMessage, type S3CreatedObject } from '../core/events.js';
import { dropKeys } from '../core/layout.js';
import { effectiveStatus, type DropEvent, type Manifest, type Thumb } from '../core/manifest.js';
import { retentionTags } from '../core/retention.js';
import {
  checkPublished,
  checkSniffedType,
  combineOutcomes,
  done,
  planForStatus,
  retry,
  skipped,
  sniffedTypeOf,
  thumbnailPlan,
  verifyObject,
  type Outcome,
} from '../core/processing.js';
import { settledEvent } from '../core/webhooks.js';
import { silentAnnouncer, type Announcer } from '../ports/announcer.js';
import { childProcessRasteriser, makeSvgThumbnails, makeThumbnails, type SvgRasteriser, type ThumbnailResult } from './thumbnails.js';
import { xmlRootOf } from './svg.js';

export type { Outcome } from '../core/processing.js';

export type WorkerSettings = Pick<Config, 'thumbWidths' | 'DROPSHIP_MAX_PIXELS' | 'DROPSHIP_MAX_IMAGE_BYTES'>;

export interface HandlerDeps {
  store: ObjectStore;
  manifests: ManifestRepo;
  config: WorkerSettings;
  log: Logger;
  clock: Clock;
  /** Enqueues webhook deliveries (default: none). */
  announce?: Announcer;
  /** Draws an SVG (default: in a child process with a time limit; tests may draw in-process). */
  rasteriseSvg?: SvgRasteriser;
}

export type MessageHandler = (body: string) => Promise<Outcome>;

// The bytes of a thumbnail key never change for a drop, but a drop can be deleted: browsers
// may keep them, shared caches may not.
const THUMB_CACHE_CONTROL = 'private, max-age=31536000, immutable';
/** What file-type reads to recognise most formats (its `reasonableDetectionSizeInBytes`). */
const SNIFF_BYTES = 4100;

export function createMessageHandler(deps: HandlerDeps): MessageHandler {
  const { store, manifests, config, log } = deps;
  const now = deps.clock;
  const announcer = deps.announce ?? silentAnnouncer;
  const rasterise = deps.rasteriseSvg ?? childProcessRasteriser();

  /** drop.ready / drop.failed for a drop that is settled; anything else announces nothing here. */
  async function announceSettled(m: Manifest | undefined) {
    const event = m && settledEvent(m.status);
    if (!event) return;
    const sent = await announcer.announce(event, m);
    if (sent) log.debug({ dropId: m.id, event, deliveries: sent }, 'webhook deliveries enqueued');
  }

  /** Writes `event` unless the manifest has moved on; the status it ended in. */
  async function record(id: string, event: DropEvent) {
    const r = await manifests.applyEvent(id, event);
    return r && { manifest: r.manifest, changed: r.ok && r.changed };
  }

  /** The bytes of a drop that must not keep them; the manifest stays as the record. */
  async function removeObjects(m: Manifest) {
    const keys = dropKeys(m.id);
    const thumbs = new Set([...config.thumbWidths.map((w) => keys.thumb(w)), ...m.thumbnails.map((t) => t.key)]);
    await store.deleteKeys([keys.original, keys.posted, ...thumbs]);
  }

  /** Step 0: a form upload becomes the drop's original once, and never again. */
  async function publishPosted(object: S3CreatedObject): Promise<Outcome> {
    const keys = dropKeys(object.dropId);
    const current = await manifests.get(object.dropId);
    if (!current) {
      await store.deleteKeys([keys.posted]);
      return skipped('no manifest for this drop: the form upload was removed');
    }
    const status = effectiveStatus(current.manifest, now());
    const head = await store.head(keys.posted);
    if (!head) return skipped('the form upload is gone (published or removed already)');
    if (status !== 'uploading') {
      await store.deleteKeys([keys.posted]);
      return done(`drop is ${status}: a form upload after that was removed, never published`);
    }
    const r = await record(object.dropId, { type: 'posted', at: now(), etag: head.etag });
    const chosen = r?.manifest.upload.postedEtag;
    if (!r || chosen !== head.etag) {
      // Another form upload was chosen (or the drop moved on): this one is a replay.
      await store.deleteKeys([keys.posted]);
      return done('a second form upload for this drop was removed, never published');
    }
    // Only this copy may create a form drop's original: bytes already there that are not the
    // chosen ones came another way, and are never published under this drop.
    const existing = await store.head(keys.original);
    if (existing && existing.etag !== chosen) {
      await store.deleteKeys([keys.posted, keys.original]);
      const f = await record(object.dropId, { type: 'verify_failed', at: now(), reason: 'a second upload reached this drop\'s file' });
      await announceSettled(f?.manifest);
      return f?.changed ? done('failed: a second upload reached this drop\'s file') : skipped(`drop is ${f?.manifest.status ?? 'gone'}`);
    }
    try {
      await store.copy(keys.posted, keys.original, { ifSourceMatch: chosen });
    } catch (e) {
      if (!(e instanceof PreconditionFailed)) {
        // S3 refusing the copy itself (4xx: e.g. an object stored in a class that cannot be
        // copied) fails the same way on every try: the drop fails instead of retrying to the DLQ.
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
        if (status < 400 || status >= 500) throw e;
        await store.deleteKeys([keys.posted]);
        const f = await record(object.dropId, { type: 'verify_failed', at: now(), reason: `the form upload cannot be published (storage answered ${status})` });
        await announceSettled(f?.manifest);
        return f?.changed ? done(`failed: storage refused to publish the form upload (${status})`) : skipped(`drop is ${f?.manifest.status ?? 'gone'}`);
      }
      // The chosen bytes were overwritten (a replay raced us) or removed before the copy:
      // unless an earlier attempt published them already, there is nothing verified to publish.
      const published = await store.head(keys.original);
      if (!published || published.etag !== chosen) {
        await store.deleteKeys([keys.posted]);
        const f = await record(object.dropId, { type: 'verify_failed', at: now(), reason: 'the form upload changed before it could be published' });
        await announceSettled(f?.manifest);
        return f?.changed ? done('failed: the form upload changed before it could be published') : skipped(`drop is ${f?.manifest.status ?? 'gone'}`);
      }
    }
    await store.deleteKeys([keys.posted]);
    return done('form upload published; its copy is processed as the original');
  }

  /**
   * Defence in depth for a settled drop: S3 refuses to overwrite a published object (the
   * single-PUT URL is create-only), but should other bytes land under the key anyway (a POST
   * policy replayed, a bucket writer outside dropship), they are never served under the old
   * verification: the drop is marked failed first — downloads stop at once — and then the
   * bytes go. A redelivered message then finds a failed drop and deletes whatever is left.
   */
  async function checkSettled(m: Manifest): Promise<Outcome> {
    const head = await store.head(dropKeys(m.id).original);
    const check = checkPublished(m, head);
    if (check.action === 'skip') {
      // A duplicate event: possibly the redelivery of one whose worker died after writing the
      // manifest and before enqueuing the webhooks. Enqueue them (again).
      await announceSettled(m);
      return skipped(check.reason);
    }
    if (check.action === 'replaced') {
      log.warn({ dropId: m.id, reason: check.reason }, 'published object replaced; failing the drop');
      const r = await record(m.id, { type: 'replaced', at: now(), reason: check.reason });
      // Whatever the manifest says now (failed, or cancelled meanwhile), these bytes go, with
      // the thumbnails of the verified ones.
      await removeObjects(m);
      if (!r) return done('manifest disappeared; the unverified object was removed');
      await announceSettled(r.manifest);
      return done(`failed: ${check.reason}`);
    }
    await removeObjects(m);
    await announceSettled(m);
    return done(check.reason);
  }

  async function handleObject(object: S3CreatedObject): Promise<Outcome> {
    if (object.kind === 'posted') return publishPosted(object);
    const id = object.dropId;
    const keys = dropKeys(id);
    const current = await manifests.get(id);
    if (!current) return skipped('no manifest for this drop');
    const m = current.manifest;

    // A drop past its lifetime is expired whatever its manifest still says.
    const status = effectiveStatus(m, now());
    const plan = planForStatus(status);
    if (plan === 'check') return checkSettled(m);
    if (plan === 'remove') {
      await removeObjects(m);
      return done(`drop is ${status}: its objects were removed`);
    }

    log.debug({ dropId: id, status: m.status }, 'processing drop');
    const head = await store.head(keys.original);
    const verified = verifyObject(m, head);
    if (!verified.ok) {
      if (head) await store.deleteKeys([keys.original]);
      const r = await record(id, { type: 'verify_failed', at: now(), reason: verified.reason });
      await announceSettled(r?.manifest);
      return r?.changed ? done(`failed: ${verified.reason}`) : skipped(`not failed (drop is ${r?.manifest.status ?? 'gone'})`);
    }
    const size = head!.size;
    // The lifecycle rule of the drop's retention class deletes the original on AWS (a backstop
    // to the sweep); the uploader's PUT could not carry the tag, so the worker sets it.
    const tags = retentionTags(m);
    if (Object.keys(tags).length) await store.putTags(keys.original, tags);

    const first = size === 0 ? Buffer.alloc(0) : await store.getRange(keys.original, 0, Math.min(size, SNIFF_BYTES) - 1);
    const detected = await fileTypeFromBuffer(first);
    const xml = detected === undefined || detected.mime === 'application/xml';
    const sniffedType = sniffedTypeOf(detected?.mime, first, first.length === size, xml ? xmlRootOf(first) : undefined);
    // The creating key's allowed types hold for the bytes too: otherwise delete them, fail the drop.
    const typeCheck = checkSniffedType(m, sniffedType);
    if (!typeCheck.ok) {
      await store.deleteKeys([keys.original]);
      const r = await record(id, { type: 'verify_failed', at: now(), reason: typeCheck.reason });
      await announceSettled(r?.manifest);
      return r?.changed ? done(`failed: ${typeCheck.reason}`) : skipped(`not failed (drop is ${r?.manifest.status ?? 'gone'})`);
    }

    const base = { type: 'processed' as const, sniffedType, etag: head!.etag };
    let event: DropEvent;
    const thumbs = thumbnailPlan(sniffedType, size, config.DROPSHIP_MAX_IMAGE_BYTES);
    if (thumbs.kind === 'none') {
      event = { ...base, at: now(), thumbnail: 'none', thumbnails: [] };
    } else if (thumbs.kind === 'refuse') {
      event = { ...base, at: now(), thumbnail: 'failed', thumbnails: [], thumbnailError: thumbs.reason };
    } else {
      const bytes = first.length === size ? first : await store.getRange(keys.original, 0, size - 1);
      const opts = { widths: config.thumbWidths, maxPixels: config.DROPSHIP_MAX_PIXELS };
      const made: ThumbnailResult =
        thumbs.kind === 'svg' ? await makeSvgThumbnails(bytes, { ...opts, rasterise }) : await makeThumbnails(bytes, opts);
      if (!made.ok) {
        log.info({ dropId: id, reason: made.reason }, 'no thumbnail');
        event = { ...base, at: now(), thumbnail: 'failed', thumbnails: [], thumbnailError: made.reason };
      } else {
        const written: Thumb[] = await Promise.all(
          made.thumbs.map(async (t) => {
            const key = keys.thumb(t.requestedWidth);
            await store.put(key, t.data, { contentType: 'image/webp', cacheControl: THUMB_CACHE_CONTROL, tags });
            return { key, width: t.width, height: t.height };
          }),
        );
        event = { ...base, at: now(), thumbnail: 'ready', thumbnails: written, width: made.width, height: made.height };
      }
    }

    const r = await record(id, event);
    if (!r) {
      // Deleted (by the retention sweep) while we worked: take our thumbnails with it.
      await removeObjects(m);
      return skipped('manifest disappeared while processing');
    }
    await announceSettled(r.manifest);
    if (r.changed) return done(`ready (${sniffedType}, thumbnail ${event.thumbnail})`);
    // Cancelled or expired while we worked: what we just wrote must not outlive the drop.
    if (planForStatus(r.manifest.status) === 'remove') {
      await removeObjects(r.manifest);
      return done(`drop became ${r.manifest.status} while processing: its objects were removed`);
    }
    return skipped(`drop is already ${r.manifest.status}`);
  }

  return async function handleMessage(body: string): Promise<Outcome> {
    const parsed = parseS3EventMessage(body);
    if (parsed.kind === 'test') return skipped('s3:TestEvent');
    if (parsed.kind === 'invalid') {
      // Not ours to retry: the same bytes would fail the same way on every delivery.
      log.warn({ reason: parsed.reason, body: body.slice(0, 500) }, 'invalid message dropped');
      return skipped(`invalid message: ${parsed.reason}`);
    }
    if (parsed.objects.length === 0) return skipped(`no drop originals in the message (${parsed.ignored} records ignored)`);

    const outcomes: Outcome[] = [];
    for (const object of parsed.objects) {
      try {
        outcomes.push(await handleObject(object));
      } catch (e) {
        const err = e as Error;
        log.warn({ dropId: object.dropId, err }, 'drop processing failed; the message will be retried');
        outcomes.push(retry(`${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`));
      }
    }
    return combineOutcomes(outcomes);
  };
}
