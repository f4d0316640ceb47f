/**
 * The drop lifecycle as the api sees it: tickets, part signing, resume, completion,
 * cancellation, status, downloads. Talks to S3 only through the ports (ObjectStore,
 * ManifestRepo, Signer); every decision about state goes through the pure state machine.
 *
 * Rollback rules: a ticket whose manifest cannot be written aborts its multipart upload;
 * cancel marks the manifest first (so nothing can complete afterwards), then aborts the
 * upload and deletes the drop's objects — and does all of that again on every call, so a
 * retried DELETE finishes a cleanup that failed half-way.
 */
import { dropKeys } from '../../core/layout.js';
import { fail } from '../../core/errors.js';
import { hashOwnerToken, isDropId, newDropId, newOwnerToken, ownerTokenMatches } from '../../core/ids.js';
import { apply, effectiveStatus, newManifest, type DropEvent, type DropSource, type Manifest } from '../../core/manifest.js';
import { sanitizeName, safeMimeType, contentDisposition } from '../../core/names.js';
import {
  MAX_PARTS,
  MAX_PART_SIZE,
  MAX_SINGLE_PUT_SIZE,
  MIN_PART_SIZE,
  PlanError,
  partSizeOf,
  planUpload,
  type UploadPlan,
} from '../../core/parts.js';
import type { OpenTickets } from '../../core/tickets.js';
import type { Config } from '../../config.js';
import type { ManifestRepo, ManifestRecord } from '../../aws/manifests.js';
import { PreconditionFailed, type ObjectStore } from '../../aws/store.js';
import type { Signer } from '../../aws/signer.js';
import type { CreateDropBody } from '../schemas/drops.js';

export interface SignedPart {
  partNumber: number;
  url: string;
  size: number;
  expiresAt: string;
}

/** The ticket request as the route validated it, plus what the server knows about it. */
export type CreateDropInput = CreateDropBody & {
  source?: DropSource;
  /** API key or client IP, for the per-uploader ticket limit. */
  owner: string;
  /** Sign the first batch of part URLs (default true). */
  signFirstBatch?: boolean;
  /**
   * The client's own cut of the file instead of dropship's plan (Uppy decides its part size
   * itself); checked against S3's rules.
   */
  plan?: { mode: 'single' } | { mode: 'multipart'; partSize: number };
};

export interface CreatedDrop {
  manifest: Manifest;
  ownerToken: string;
  parts: SignedPart[];
}

export interface DropServiceDeps {
  config: Config;
  store: ObjectStore;
  manifests: ManifestRepo;
  signer: Signer;
  tickets: OpenTickets;
  now?: () => Date;
}

/** A plan the client chose, held to S3's limits (parts 5 MiB..5 GiB but the last, <= 10,000). */
function clientPlan(size: number, want: NonNullable<CreateDropInput['plan']>): UploadPlan {
  if (want.mode === 'single') {
    if (size > MAX_SINGLE_PUT_SIZE) throw new PlanError('SIZE_TOO_LARGE', `a single PUT holds at most ${MAX_SINGLE_PUT_SIZE} bytes`);
    return { mode: 'single', partSize: size, partCount: 1, lastPartSize: size };
  }
  const partCount = Math.max(1, Math.ceil(size / want.partSize));
  if (!Number.isSafeInteger(want.partSize) || want.partSize > MAX_PART_SIZE || (partCount > 1 && want.partSize < MIN_PART_SIZE)) {
    throw new PlanError('SIZE_INVALID', `parts must be ${MIN_PART_SIZE}..${MAX_PART_SIZE} bytes`);
  }
  if (partCount > MAX_PARTS) throw new PlanError('SIZE_TOO_LARGE', `at most ${MAX_PARTS} parts`);
  return { mode: 'multipart', partSize: want.partSize, partCount, lastPartSize: size - want.partSize * (partCount - 1) };
}

const SIGNING_CACHE_MS = 10_000;
const SIGNING_CACHE_MAX = 10_000;

const planOf = (m: Manifest): UploadPlan => ({
  mode: m.upload.mode,
  partSize: m.upload.partSize,
  partCount: m.upload.partCount,
  lastPartSize: m.size - m.upload.partSize * (m.upload.partCount - 1),
});

export type DropService = ReturnType<typeof createDropService>;

export function createDropService(deps: DropServiceDeps) {
  const { config, store, manifests, signer, tickets } = deps;
  const now = deps.now ?? (() => new Date());

  async function load(id: string): Promise<ManifestRecord> {
    // Malformed ids are answered exactly like unknown ones: ids are not enumerable.
    const rec = isDropId(id) ? await manifests.get(id) : undefined;
    if (!rec) throw fail('DROP_NOT_FOUND', 'no drop with this id');
    return rec;
  }

  /**
   * Part signing is the hot path (a 10,000-part upload asks 100 times), so it reads the
   * manifest through a short-lived per-process copy instead of from S3 on every batch. A
   * copy at most SIGNING_CACHE_MS old is safe: the owner-token hash and the plan never
   * change, and a drop cancelled or completed meanwhile has no multipart upload left, so S3
   * refuses any part sent with such a URL.
   */
  const signingCache = new Map<string, { rec: ManifestRecord; at: number }>();
  async function loadForSigning(id: string): Promise<ManifestRecord> {
    const hit = signingCache.get(id);
    if (hit && Date.now() - hit.at < SIGNING_CACHE_MS) return hit.rec;
    const rec = await load(id);
    if (signingCache.size >= SIGNING_CACHE_MAX) signingCache.delete(signingCache.keys().next().value!);
    signingCache.set(id, { rec, at: Date.now() });
    return rec;
  }

  async function loadOwned(
    id: string,
    ownerToken: string | undefined,
    read: (id: string) => Promise<ManifestRecord> = load,
  ): Promise<ManifestRecord> {
    if (!ownerToken) throw fail('UNAUTHORIZED', 'this needs the X-Owner-Token header returned when the drop was created');
    const rec = await read(id);
    if (!ownerTokenMatches(ownerToken, rec.manifest.ownerTokenHash)) {
      throw fail('OWNER_TOKEN_INVALID', 'the owner token does not match this drop');
    }
    return rec;
  }

  /** Writes an event through the state machine; a refused transition is a 409. */
  async function transition(id: string, event: DropEvent): Promise<Manifest> {
    let refused: string | undefined;
    const r = await manifests.update(id, (m) => {
      const res = apply(m, event);
      if (!res.ok) {
        refused = res.from;
        return undefined;
      }
      return res.changed ? res.manifest : undefined;
    });
    if (!r) throw fail('DROP_NOT_FOUND', 'no drop with this id');
    if (refused) {
      throw fail('DROP_NOT_UPLOADING', `the drop is ${refused}`, { status: refused });
    }
    return r.record.manifest;
  }

  /** Past its ticket's TTL an upload is expired: record it and release S3's parts. */
  async function expireIfDue(rec: ManifestRecord): Promise<Manifest> {
    const m = rec.manifest;
    if (effectiveStatus(m, now()) !== 'expired' || m.status === 'expired') return m;
    const r = await manifests.update(m.id, (cur) => {
      const res = apply(cur, { type: 'expire', at: now() });
      return res.ok && res.changed ? res.manifest : undefined;
    });
    if (m.upload.uploadId) await store.abortMultipart(dropKeys(m.id).original, m.upload.uploadId);
    tickets.release(m.id);
    return r?.record.manifest ?? m;
  }

  async function signParts(m: Manifest, partNumbers: number[]): Promise<SignedPart[]> {
    const plan = planOf(m);
    const key = dropKeys(m.id).original;
    const expiresIn = Math.max(
      1,
      Math.min(config.DROPSHIP_PART_URL_TTL, Math.floor((Date.parse(m.expiresAt) - now().getTime()) / 1000)),
    );
    const at = now();
    return Promise.all(
      partNumbers.map(async (partNumber) => {
        const size = partSizeOf(plan, partNumber);
        const signed = await signer.signPut(
          {
            key,
            contentLength: size,
            expiresIn,
            ...(m.upload.mode === 'multipart' ? { part: { uploadId: m.upload.uploadId!, partNumber } } : {}),
          },
          at,
        );
        return { partNumber, url: signed.url, size, expiresAt: signed.expiresAt.toISOString() };
      }),
    );
  }

  function requireUploading(m: Manifest) {
    const s = effectiveStatus(m, now());
    if (s === 'expired') throw fail('DROP_EXPIRED', 'the upload ticket has expired');
    if (s !== 'uploading') throw fail('DROP_NOT_UPLOADING', `the drop is ${s}`, { status: s });
  }

  return {
    load,

    async create(input: CreateDropInput): Promise<CreatedDrop> {
      const name = sanitizeName(input.name);
      if (!name.ok) throw fail('NAME_INVALID', `name is not acceptable (${name.reason})`, { reason: name.reason });
      if (input.size > config.DROPSHIP_MAX_FILE_SIZE) {
        throw fail('FILE_TOO_LARGE', `files may be at most ${config.DROPSHIP_MAX_FILE_SIZE} bytes`, {
          maxSize: config.DROPSHIP_MAX_FILE_SIZE,
        });
      }
      let plan: UploadPlan;
      try {
        plan = input.plan ? clientPlan(input.size, input.plan) : planUpload(input.size, { singlePutMax: config.DROPSHIP_SINGLE_PUT_MAX });
      } catch (e) {
        if (e instanceof PlanError) {
          throw fail(e.code === 'SIZE_TOO_LARGE' ? 'FILE_TOO_LARGE' : 'SIZE_INVALID', e.message);
        }
        throw e;
      }
      const ttl = Math.min(input.expiresIn ?? config.DROPSHIP_TICKET_TTL, config.DROPSHIP_TICKET_TTL);
      const created = now();
      const expiresAt = new Date(created.getTime() + ttl * 1000);
      const id = newDropId();
      const admission = tickets.admit(id, input.owner, expiresAt.getTime());
      if (!admission.ok) {
        throw admission.reason === 'total'
          ? fail('UPLOAD_SLOTS_FULL', 'the server is at its upload capacity; retry shortly', {}, admission.retryAfter)
          : fail(
              'TOO_MANY_OPEN_TICKETS',
              `at most ${config.DROPSHIP_MAX_OPEN_TICKETS} unfinished uploads at once; complete or cancel some`,
              {},
              admission.retryAfter,
            );
      }
      const key = dropKeys(id).original;
      let uploadId: string | undefined;
      try {
        if (plan.mode === 'multipart') uploadId = await store.createMultipart(key, 'application/octet-stream');
        const ownerToken = newOwnerToken();
        const manifest = newManifest({
          id,
          name: name.name,
          size: input.size,
          type: safeMimeType(input.type),
          ...(input.sha256 ? { sha256: input.sha256.toLowerCase() } : {}),
          ownerTokenHash: hashOwnerToken(ownerToken),
          upload: { mode: plan.mode, ...(uploadId ? { uploadId } : {}), partSize: plan.partSize, partCount: plan.partCount },
          source: input.source ?? 'ticket',
          ...(input.maxDownloads ? { maxDownloads: input.maxDownloads } : {}),
          now: created,
          expiresAt,
        });
        await manifests.create(manifest);
        const first =
          input.signFirstBatch === false
            ? []
            : Array.from({ length: Math.min(plan.partCount, config.DROPSHIP_TICKET_PARTS, config.DROPSHIP_PARTS_PER_BATCH) }, (_, i) => i + 1);
        return { manifest, ownerToken, parts: await signParts(manifest, first) };
      } catch (e) {
        tickets.release(id);
        if (uploadId) await store.abortMultipart(key, uploadId).catch(() => {});
        if (e instanceof PreconditionFailed) throw fail('INTERNAL', 'drop id collision');
        throw e;
      }
    },

    async signParts(id: string, ownerToken: string | undefined, partNumbers: number[]): Promise<SignedPart[]> {
      const rec = await loadOwned(id, ownerToken, loadForSigning);
      const m = await expireIfDue(rec);
      requireUploading(m);
      const bad = partNumbers.filter((n) => n < 1 || n > m.upload.partCount);
      if (bad.length) {
        throw fail('PART_NUMBER_INVALID', `part numbers must be 1..${m.upload.partCount}`, { invalid: bad.slice(0, 20) });
      }
      if (new Set(partNumbers).size !== partNumbers.length) {
        throw fail('PART_NUMBER_INVALID', 'part numbers must not repeat');
      }
      if (partNumbers.length > config.DROPSHIP_PARTS_PER_BATCH) {
        throw fail('PART_NUMBER_INVALID', `at most ${config.DROPSHIP_PARTS_PER_BATCH} parts per request`);
      }
      return signParts(m, partNumbers);
    },

    /** Parts S3 already holds — what a resuming client does not need to send again. */
    async listParts(id: string, ownerToken: string | undefined) {
      const rec = await loadOwned(id, ownerToken);
      const m = await expireIfDue(rec);
      requireUploading(m);
      const key = dropKeys(id).original;
      if (m.upload.mode === 'single') {
        const head = await store.head(key);
        return { manifest: m, parts: head ? [{ partNumber: 1, size: head.size, etag: head.etag }] : [] };
      }
      const parts = (await store.listParts(key, m.upload.uploadId!)) ?? [];
      return { manifest: m, parts };
    },

    async complete(
      id: string,
      ownerToken: string | undefined,
      claimed: { partNumber: number; etag: string }[] | undefined,
    ): Promise<Manifest> {
      const rec = await loadOwned(id, ownerToken);
      let m = rec.manifest;
      if (m.status === 'processing' || m.status === 'ready') return m; // a retry after success
      m = await expireIfDue(rec);
      requireUploading(m);
      const key = dropKeys(id).original;
      const plan = planOf(m);
      let etag: string;

      if (m.upload.mode === 'single') {
        const head = await store.head(key);
        if (!head) throw fail('PART_MISSING', 'the file has not been uploaded', { missing: [1] });
        if (head.size !== m.size) {
          throw fail('PART_SIZE_MISMATCH', 'the uploaded size differs from the declared size', {
            expected: m.size,
            actual: head.size,
          });
        }
        etag = head.etag;
      } else {
        const stored = await store.listParts(key, m.upload.uploadId!);
        if (!stored) {
          // The upload is gone. If the object is there, an earlier complete succeeded in S3
          // and only its answer was lost: finish the bookkeeping instead of failing the retry.
          const head = await store.head(key);
          if (!head || head.size !== m.size) throw fail('DROP_NOT_UPLOADING', 'the multipart upload no longer exists');
          etag = head.etag;
        } else {
          const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
          const missing: number[] = [];
          const wrongSize: { partNumber: number; expected: number; actual: number }[] = [];
          for (let n = 1; n <= plan.partCount; n++) {
            const p = byNumber.get(n);
            if (!p) missing.push(n);
            else if (p.size !== partSizeOf(plan, n)) wrongSize.push({ partNumber: n, expected: partSizeOf(plan, n), actual: p.size });
          }
          const extra = stored.filter((p) => p.partNumber > plan.partCount).map((p) => p.partNumber);
          if (claimed) {
            const claimedNumbers = new Set(claimed.map((p) => p.partNumber));
            for (const c of claimed) {
              if (c.partNumber < 1 || c.partNumber > plan.partCount) extra.push(c.partNumber);
            }
            for (let n = 1; n <= plan.partCount; n++) if (!claimedNumbers.has(n) && !missing.includes(n)) missing.push(n);
            if (claimedNumbers.size !== claimed.length) throw fail('PART_UNEXPECTED', 'a part is listed twice');
          }
          if (missing.length) {
            throw fail('PART_MISSING', `${missing.length} part(s) not uploaded`, { missing: missing.slice(0, 100) });
          }
          if (extra.length) {
            throw fail('PART_UNEXPECTED', 'parts outside the plan', { unexpected: [...new Set(extra)].slice(0, 100) });
          }
          if (wrongSize.length) {
            throw fail('PART_SIZE_MISMATCH', 'part sizes differ from the plan', { parts: wrongSize.slice(0, 100) });
          }
          if (claimed) {
            const bad = claimed.filter((c) => byNumber.get(c.partNumber)?.etag.replaceAll('"', '') !== c.etag.replaceAll('"', ''));
            if (bad.length) {
              throw fail('PART_ETAG_MISMATCH', 'part ETags differ from what S3 holds', {
                parts: bad.slice(0, 100).map((b) => b.partNumber),
              });
            }
          }
          try {
            etag = await store.completeMultipart(
              key,
              m.upload.uploadId!,
              [...byNumber.values()].sort((a, b) => a.partNumber - b.partNumber),
            );
          } catch (e) {
            // A concurrent complete (or cancel) got there first.
            const head = await store.head(key);
            if (!head || head.size !== m.size) throw e;
            etag = head.etag;
          }
        }
      }
      const done = await transition(id, { type: 'complete', at: now(), etag });
      tickets.release(id);
      return done;
    },

    async cancel(id: string, ownerToken: string | undefined): Promise<Manifest> {
      const rec = await loadOwned(id, ownerToken);
      const m = await transition(id, { type: 'cancel', at: now() });
      tickets.release(id);
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
      return expireIfDue(await load(id));
    },

    /** A short-lived GET for the file, as an attachment under the user's name. */
    async downloadUrl(id: string): Promise<string> {
      const rec = await load(id);
      const m = await expireIfDue(rec);
      if (m.status === 'expired') throw fail('DROP_EXPIRED', 'the upload never finished and the ticket has expired');
      if (m.status !== 'ready' && m.status !== 'processing') {
        throw fail('DROP_NOT_READY', `the drop is ${m.status}`, { status: m.status });
      }
      if (m.maxDownloads) await countDownload(m);
      const signed = await signer.signGet({
        key: dropKeys(id).original,
        expiresIn: config.DROPSHIP_DOWNLOAD_URL_TTL,
        responseContentDisposition: contentDisposition(m.name, 'attachment'),
        responseContentType: m.sniffedType ?? 'application/octet-stream',
      });
      return signed.url;
    },

    async thumbnailUrl(id: string, width: number): Promise<string> {
      const rec = await load(id);
      const t = rec.manifest.status === 'ready' ? rec.manifest.thumbnails.find((x) => x.width === width) : undefined;
      if (!t) throw fail('THUMBNAIL_NOT_FOUND', `no ${width}px thumbnail for this drop`);
      const signed = await signer.signGet({
        key: t.key,
        expiresIn: config.DROPSHIP_DOWNLOAD_URL_TTL,
        responseContentType: 'image/webp',
      });
      return signed.url;
    },
  };

  /** Counts a download against maxDownloads with a conditional write; refuses past the limit. */
  async function countDownload(m: Manifest) {
    let exhausted = false;
    await manifests.update(m.id, (cur) => {
      const used = cur.downloads ?? 0;
      if (cur.maxDownloads && used >= cur.maxDownloads) {
        exhausted = true;
        return undefined;
      }
      return { ...cur, downloads: used + 1 };
    });
    if (exhausted) throw fail('DOWNLOAD_LIMIT_REACHED', 'this drop has been downloaded as often as its owner allowed');
  }
}
