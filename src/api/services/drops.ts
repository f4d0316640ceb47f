/**
 * The drop lifecycle as the api sees it: tickets, part signing, resume, completion,
 * cancellation, status, downloads. Talks to storage only through the ports (ObjectStore,
 * ManifestRepo, Signer); every change of state is one event through the state machine.
 *
 * Cancel marks the manifest first (so nothing can complete afterwards), then aborts the
 * upload and deletes the drop's objects — and does all of that again on every call, so a
 * retried DELETE finishes a cleanup that failed half-way.
 */
import { fail } from '../../core/errors.js';
import { dropKeys } from '../../core/layout.js';
import type { Manifest } from '../../core/manifest.js';
import { contentDisposition } from '../../core/names.js';
import type { Config } from '../../config.js';
import type { Clock } from '../../ports/clock.js';
import type { ManifestRecord, ManifestRepo } from '../../ports/manifests.js';
import type { ObjectStore, StoredPart } from '../../ports/object-store.js';
import type { SignedPost, Signer } from '../../ports/signer.js';
import { createCompleter } from './complete.js';
import { createDropCreator } from './create.js';
import { createDropRecords } from './records.js';
import { checkPartNumbers, createSigningCache, signPartUrls, type SignedPart } from './signing.js';
import type { OpenTickets } from './tickets.js';

export type { CreateDropInput, CreatedDrop } from './create.js';
export type { SignedPart } from './signing.js';

export interface DropServiceDeps {
  config: Config;
  store: ObjectStore;
  manifests: ManifestRepo;
  signer: Signer;
  tickets: OpenTickets;
  clock: Clock;
}

export type DropService = ReturnType<typeof createDropService>;

export function createDropService(deps: DropServiceDeps) {
  const { config, store, manifests, signer, clock } = deps;
  let evict = (_id: string) => {};
  const records = createDropRecords({ ...deps, onTerminal: (id) => evict(id) });
  const signing = createSigningCache(records.load, clock);
  evict = signing.evict;
  const create = createDropCreator(deps);
  const complete = createCompleter({ store, records, clock });

  async function signGet(
    key: string,
    extra: { responseContentDisposition?: string; responseContentType: string },
    expiresIn = config.DROPSHIP_DOWNLOAD_URL_TTL,
  ) {
    const signed = await signer.signGet({ key, expiresIn, ...extra }, clock());
    return signed.url;
  }

  return {
    load: records.load,
    create,
    complete,

    async signParts(id: string, ownerToken: string | undefined, partNumbers: number[]): Promise<SignedPart[]> {
      const rec = await records.loadOwned(id, ownerToken, signing.get);
      const m = await records.expireIfDue(rec.manifest);
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
      const rec = await records.loadOwned(id, ownerToken);
      const m = await records.transition(id, { type: 'cancel', at: clock() });
      const keys = dropKeys(id);
      if (rec.manifest.upload.uploadId) await store.abortMultipart(keys.original, rec.manifest.upload.uploadId);
      // Everything but the manifest goes; the manifest stays as a tombstone so the share
      // page can say "deleted" instead of "not found".
      const leftovers = (await store.listKeys(keys.prefix)).filter((k) => k !== keys.manifest);
      if (leftovers.length) await store.deleteKeys(leftovers);
      return m;
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
    async downloadUrl(id: string, opts: { probe?: boolean } = {}): Promise<string | undefined> {
      const m = await records.expireIfDue((await records.load(id)).manifest);
      if (m.status === 'expired') throw fail('DROP_EXPIRED', 'the upload never finished and the ticket has expired');
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
      const ttl = m.maxDownloads ? Math.min(config.DROPSHIP_DOWNLOAD_URL_TTL, config.DROPSHIP_LIMITED_DOWNLOAD_URL_TTL) : undefined;
      return signGet(
        dropKeys(id).original,
        {
          responseContentDisposition: contentDisposition(m.name, 'attachment'),
          responseContentType: m.sniffedType ?? 'application/octet-stream',
        },
        ttl,
      );
    },

    /** A browser form upload (S3 POST policy) for a single-mode drop: its key, exactly its size. */
    async signPost(m: Manifest): Promise<{ post: SignedPost; expires: number }> {
      const now = clock();
      const expires = Math.max(1, Math.min(config.DROPSHIP_PART_URL_TTL, Math.floor((Date.parse(m.expiresAt) - now.getTime()) / 1000)));
      const post = await signer.signPost({ key: dropKeys(m.id).original, size: m.size, expiresIn: expires }, now);
      return { post, expires };
    },

    async thumbnailUrl(id: string, width: number): Promise<string> {
      const rec: ManifestRecord = await records.load(id);
      const t = rec.manifest.status === 'ready' ? rec.manifest.thumbnails.find((x) => x.width === width) : undefined;
      if (!t) throw fail('THUMBNAIL_NOT_FOUND', `no ${width}px thumbnail for this drop`);
      return signGet(t.key, { responseContentType: 'image/webp' });
    },
  };
}

const limitReached = () => fail('DOWNLOAD_LIMIT_REACHED', 'this drop has been downloaded as often as its owner allowed');

/** Counts a download against maxDownloads (a `downloaded` event); refuses past the limit. */
async function countDownload(manifests: ManifestRepo, id: string, at: Date): Promise<void> {
  const r = await manifests.applyEvent(id, { type: 'downloaded', at });
  if (!r) throw fail('DROP_NOT_FOUND', 'no drop with this id');
  if (!r.ok && r.code === 'LIMIT_REACHED') throw limitReached();
  if (!r.ok) throw fail('DROP_NOT_READY', `the drop is ${r.from}`, { status: r.from });
}
