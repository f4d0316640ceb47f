/**
 * The drop lifecycle as the api sees it: tickets, part signing, resume, completion,
 * cancellation, status, downloads. Talks to storage only through the ports (ObjectStore,
 * ManifestRepo, Signer); every change of state is one event through the state machine.
 *
 * Cancel marks the manifest first (so nothing can complete afterwards), then aborts the
 * upload and deletes the drop's objects — and does all of that again on every call, so a
 * retried DELETE finishes a cleanup that failed half-way. Before the mark, it enqueues the
 * drop.deleted webhooks, which the delivery consumer sends only once the manifest says
 * cancelled: an api killed between the two loses no webhook (docs/webhooks.md).
 */
import { fail } from '../../core/errors.js';
import { dropKeys } from '../../core/layout.js';
import { apply, dropExpiry, effectiveStatus, lifetimeOver, uploadDeadline, type Manifest } from '../../core/manifest.js';
import { silentAnnouncer, type Announcer } from '../../ports/announcer.js';
import { urlLifetime } from '../../core/retention.js';
import { contentDisposition, downloadContentType } from '../../core/names.js';
import type { ManifestRecord, ManifestRepo } from '../../ports/manifests.js';
import type { StoredPart } from '../../ports/object-store.js';
import { unindexForKey } from '../../ports/key-index.js';
import type { SignedPost } from '../../ports/signer.js';
import { createCompleter } from './complete.js';
import { createDropCreator, type CreateDeps } from './create.js';
import { createDropRecords } from './records.js';
import { checkPartNumbers, createSigningCache, signPartUrls, type SignedPart } from './signing.js';

export type { CreateDropInput, CreatedDrop } from './create.js';
export type { SignedPart } from './signing.js';

/** The service needs what creating a drop needs, and where to announce deletions. */
export type DropServiceDeps = CreateDeps & {
  announce?: Announcer;
  /** Keep the part-signing copy of manifests (services/signing.ts); off when replicas share limits. Default true. */
  signingCache?: boolean;
};

/** Seconds a drop.deleted delivery waits before its first check of the manifest (the cancel is written meanwhile). */
const DELETED_DELAY_SECONDS = 1;

export type DropService = ReturnType<typeof createDropService>;

export function createDropService(deps: DropServiceDeps) {
  const { config, store, manifests, signer, clock } = deps;
  let evict = (_id: string) => {};
  const records = createDropRecords({ ...deps, onTerminal: (id) => evict(id) });
  const signing = createSigningCache(records.load, clock, { enabled: deps.signingCache ?? true });
  evict = signing.evict;
  const create = createDropCreator(deps);
  const complete = createCompleter({ store, records, clock });

  /**
   * A presigned GET that never outlives the drop, and every header of whose response is ours
   * (S3's response-* overrides), none the uploader's: a PUT with `Content-Encoding: gzip` (a
   * bomb once decoded), `Cache-Control: public, max-age=31536000`, `Expires` or
   * `Content-Language` changes nothing on the download. The file is never cached (`no-store`,
   * `Expires` in the past); a thumbnail may be kept privately for as long as its URL lives.
   */
  async function signGet(
    m: Manifest,
    key: string,
    extra: { responseContentDisposition?: string; responseContentType: string; cache: 'none' | 'url' },
    lifetime = config.DROPSHIP_DOWNLOAD_URL_TTL,
  ) {
    const now = clock();
    const ttl = urlLifetime(lifetime, now, dropExpiry(m));
    const { cache, ...response } = extra;
    const signed = await signer.signGet(
      {
        key,
        expiresIn: ttl,
        ...response,
        responseContentEncoding: 'identity',
        responseCacheControl: cache === 'none' ? 'private, no-store' : `private, max-age=${ttl}`,
        responseExpires: cache === 'none' ? new Date(0) : new Date(now.getTime() + ttl * 1000),
        // S3 cannot drop the header; `und` (undetermined, BCP 47) replaces the uploader's.
        responseContentLanguage: 'und',
      },
      now,
    );
    return signed.url;
  }

  /** A drop past its lifetime, or an upload past its deadline, is gone for readers. */
  /** A drop that is gone for good — deleted (or its upload cancelled) or expired — answers 410. */
  function refuseExpired(m: Manifest): void {
    if (m.status === 'cancelled') throw deleted();
    if (effectiveStatus(m, clock()) !== 'expired') return;
    throw fail('DROP_EXPIRED', lifetimeOver(m, clock()) ? 'this drop has expired' : 'the upload never finished and the ticket has expired');
  }

  async function cancelRecord(rec: ManifestRecord): Promise<Manifest> {
    const id = rec.manifest.id;
    const at = clock();
    // Announced before it is written (a retried DELETE of a cancelled drop announces nothing
    // new): the consumer confirms the cancel from the manifest before it delivers.
    const next = apply(rec.manifest, { type: 'cancel', at });
    if (next.ok && next.changed) {
      await (deps.announce ?? silentAnnouncer).announce('drop.deleted', next.manifest, { at, confirm: true, delaySeconds: DELETED_DELAY_SECONDS });
    }
    const m = await records.transition(id, { type: 'cancel', at });
    const keys = dropKeys(id);
    if (rec.manifest.upload.uploadId) await store.abortMultipart(keys.original, rec.manifest.upload.uploadId);
    // Everything but the manifest goes; the manifest stays as a tombstone so the share
    // page can say "deleted" instead of "not found".
    const leftovers = (await store.listKeys(keys.prefix)).filter((k) => k !== keys.manifest);
    // Stryker disable next-line ConditionalExpression: deleteKeys([]) does nothing in either adapter; the test only saves the call.
    if (leftovers.length) await store.deleteKeys(leftovers);
    // A deleted drop leaves its key's listing (a listing also drops a cancelled drop's entry).
    await unindexForKey(store, rec.manifest);
    return m;
  }

  return {
    load: records.load,
    create,
    complete,

    async signParts(id: string, ownerToken: string | undefined, partNumbers: number[]): Promise<SignedPart[]> {
      let rec = await records.loadOwned(id, ownerToken, signing.get);
      // A single PUT's URL creates the object, so it is never signed from a copy that may be
      // stale (another replica completed or cancelled the drop in the last seconds): one GET.
      // Multipart copies are safe: a finished drop has no upload left for a part to land in.
      if (rec.manifest.upload.mode === 'single') rec = await records.loadOwned(id, ownerToken);
      const m = await records.expireIfDue(rec.manifest);
      // A one-request Uppy drop is uploaded by its form policy to the posted key, and only the
      // worker writes its original: a PUT URL for that key would be a second writer.
      if (m.source === 'uppy' && m.upload.mode === 'single') {
        throw fail('DROP_NOT_UPLOADING', 'this drop is uploaded with its form policy (/s3/params); it has no part URLs');
      }
      records.requireUploading(m);
      checkPartNumbers(m, partNumbers, config.DROPSHIP_PARTS_PER_BATCH);
      return signPartUrls(signer, m, partNumbers, config.DROPSHIP_PART_URL_TTL, clock());
    },

    /** Parts S3 already holds — what a resuming client does not need to send again. */
    async listParts(id: string, ownerToken: string | undefined): Promise<{ manifest: Manifest; parts: StoredPart[] }> {
      const rec = await records.loadOwned(id, ownerToken);
      const m = await records.expireIfDue(rec.manifest);
      records.requireUploading(m);
      const key = dropKeys(id).original;
      if (m.upload.mode === 'single') {
        const head = await store.head(key);
        return { manifest: m, parts: head ? [{ partNumber: 1, size: head.size, etag: head.etag }] : [] };
      }
      return { manifest: m, parts: (await store.listParts(key, m.upload.uploadId!)) ?? [] };
    },

    async cancel(id: string, ownerToken: string | undefined): Promise<Manifest> {
      return cancelRecord(await records.loadOwned(id, ownerToken));
    },

    /**
     * Cancels a drop whose ownership was proved earlier: a collection's owner deleting the
     * collection (its owner showed each drop's token when adding it, services/collections.ts).
     */
    async cancelProved(id: string): Promise<Manifest> {
      return cancelRecord(await records.load(id));
    },

    /** Status for readers; expires the drop on the way when its ticket ran out. */
    async status(id: string): Promise<Manifest> {
      return records.expireIfDue((await records.load(id)).manifest);
    },

    /**
     * A short-lived GET for the file, as an attachment under the user's name; counts against
     * maxDownloads. A limited drop's URL lives only DROPSHIP_LIMITED_DOWNLOAD_URL_TTL (one
     * counted download is one URL, and a URL can be fetched again while it lives).
     *
     * `probe` (a HEAD) checks the same things without counting and answers no URL for a
     * limited drop — an uncounted URL would be an uncounted download.
     */
    async downloadUrl(id: string, opts: { probe?: boolean; guard?: (m: Manifest) => void } = {}): Promise<string | undefined> {
      const m = await records.expireIfDue((await records.load(id)).manifest);
      // A password-protected drop the reader has not unlocked says nothing more (routes' guard).
      opts.guard?.(m);
      refuseExpired(m);
      if (m.status !== 'ready' && m.status !== 'processing') {
        throw fail('DROP_NOT_READY', `the drop is ${m.status}`, { status: m.status });
      }
      if (m.maxDownloads) {
        if (opts.probe) {
          if ((m.downloads ?? 0) >= m.maxDownloads) throw limitReached();
          return undefined;
        }
        await countDownload(manifests, m.id, clock());
      }
      // A limited drop's URL lives briefly: every download it allows is counted, not shared.
      const lifetime = m.maxDownloads ? Math.min(config.DROPSHIP_DOWNLOAD_URL_TTL, config.DROPSHIP_LIMITED_DOWNLOAD_URL_TTL) : undefined;
      return signGet(
        m,
        dropKeys(id).original,
        {
          responseContentDisposition: contentDisposition(m.name, 'attachment'),
          responseContentType: downloadContentType(m.sniffedType),
          cache: 'none',
        },
        lifetime,
      );
    },

    /**
     * A browser form upload (S3 POST policy) for a single-mode drop: exactly its size, to the
     * drop's `posted` key — a policy cannot be made create-only, so it never addresses the
     * published original; the worker publishes the first form upload once (handler.ts).
     */
    async signPost(m: Manifest): Promise<{ post: SignedPost; expires: number; key: string }> {
      const now = clock();
      const expires = urlLifetime(config.DROPSHIP_PART_URL_TTL, now, uploadDeadline(m));
      const key = dropKeys(m.id).posted;
      const post = await signer.signPost({ key, size: m.size, expiresIn: expires }, now);
      return { post, expires, key };
    },

    async thumbnailUrl(id: string, width: number, guard?: (m: Manifest) => void): Promise<string> {
      const rec: ManifestRecord = await records.load(id);
      const m = await records.expireIfDue(rec.manifest);
      guard?.(m);
      refuseExpired(m);
      const t = m.status === 'ready' ? m.thumbnails.find((x) => x.width === width) : undefined;
      if (!t) throw fail('THUMBNAIL_NOT_FOUND', `no ${width}px thumbnail for this drop`);
      // Stryker disable next-line StringLiteral: `cache` is only ever compared with 'none'; any other value means a URL-long private cache.
      return signGet(m, t.key, { responseContentType: 'image/webp', cache: 'url' });
    },
  };
}

const deleted = () => fail('DROP_DELETED', 'this drop was deleted by its owner');
const limitReached = () => fail('DOWNLOAD_LIMIT_REACHED', 'this drop has been downloaded as often as its owner allowed');

/** Counts a download against maxDownloads (a `downloaded` event); refuses past the limit. */
async function countDownload(manifests: ManifestRepo, id: string, at: Date): Promise<void> {
  const r = await manifests.applyEvent(id, { type: 'downloaded', at });
  if (!r) throw fail('DROP_NOT_FOUND', 'no drop with this id');
  if (!r.ok && r.code === 'LIMIT_REACHED') throw limitReached();
  if (!r.ok && r.from === 'cancelled') throw deleted();
  if (!r.ok) throw fail('DROP_NOT_READY', `the drop is ${r.from}`, { status: r.from });
}
