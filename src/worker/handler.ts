/**
 * One S3 event message → an outcome. Depends only on ports (ObjectStore, ManifestRepo),
 * settings and a logger, so the same function serves the long-running consumer (worker.ts)
 * and AWS Lambda (lambda.ts).
 *
 * Delivery is at-least-once, so every step is idempotent:
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
 *   4. images: decode once, write every thumbnail, then record the result with one
 *      conditional manifest write (thumbnails first, so a reader who sees `ready` finds them);
 *      a bad image only makes `thumbnail: failed` — the file itself is fine.
 * Anything thrown (S3 5xx, throttling, network, a manifest that is not JSON) becomes `retry`:
 * the message returns after a backoff and, after the queue's maxReceiveCount, goes to the DLQ.
 */
import { fileTypeFromBuffer } from 'file-type';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ObjectStore } from '../ports/object-store.js';
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
import { makeThumbnails } from './thumbnails.js';

export type { Outcome } from '../core/processing.js';

export type WorkerSettings = Pick<Config, 'thumbWidths' | 'DROPSHIP_MAX_PIXELS' | 'DROPSHIP_MAX_IMAGE_BYTES'>;

export interface HandlerDeps {
  store: ObjectStore;
  manifests: ManifestRepo;
  config: WorkerSettings;
  log: Logger;
  clock: Clock;
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

  /** Writes `event` unless the manifest has moved on; the status it ended in. */
  async function record(id: string, event: DropEvent) {
    const r = await manifests.applyEvent(id, event);
    return r && { manifest: r.manifest, changed: r.ok && r.changed };
  }

  /** The bytes of a drop that must not keep them; the manifest stays as the record. */
  async function removeObjects(m: Manifest) {
    const keys = dropKeys(m.id);
    const thumbs = new Set([...config.thumbWidths.map((w) => keys.thumb(w)), ...m.thumbnails.map((t) => t.key)]);
    await store.deleteKeys([keys.original, ...thumbs]);
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
    if (check.action === 'skip') return skipped(check.reason);
    if (check.action === 'replaced') {
      log.warn({ dropId: m.id, reason: check.reason }, 'published object replaced; failing the drop');
      const r = await record(m.id, { type: 'replaced', at: now(), reason: check.reason });
      // Whatever the manifest says now (failed, or cancelled meanwhile), these bytes go, with
      // the thumbnails of the verified ones.
      await removeObjects(m);
      if (!r) return done('manifest disappeared; the unverified object was removed');
      return done(`failed: ${check.reason}`);
    }
    await removeObjects(m);
    return done(check.reason);
  }

  async function handleObject(object: S3CreatedObject): Promise<Outcome> {
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
      return r?.changed ? done(`failed: ${verified.reason}`) : skipped(`not failed (drop is ${r?.manifest.status ?? 'gone'})`);
    }
    const size = head!.size;
    // The lifecycle rule of the drop's retention class deletes the original on AWS (a backstop
    // to the sweep); the uploader's PUT could not carry the tag, so the worker sets it.
    const tags = retentionTags(m);
    if (Object.keys(tags).length) await store.putTags(keys.original, tags);

    const first = size === 0 ? Buffer.alloc(0) : await store.getRange(keys.original, 0, Math.min(size, SNIFF_BYTES) - 1);
    const detected = await fileTypeFromBuffer(first);
    const sniffedType = sniffedTypeOf(detected?.mime, first, first.length === size);
    // The creating key's allowed types hold for the bytes too: otherwise delete them, fail the drop.
    const typeCheck = checkSniffedType(m, sniffedType);
    if (!typeCheck.ok) {
      await store.deleteKeys([keys.original]);
      const r = await record(id, { type: 'verify_failed', at: now(), reason: typeCheck.reason });
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
      const made = await makeThumbnails(bytes, { widths: config.thumbWidths, maxPixels: config.DROPSHIP_MAX_PIXELS });
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
