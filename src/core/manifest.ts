// The drop manifest (drops/{id}/manifest.json) and its state machine.
// (Longer than most modules on purpose: every transition sits in one `apply`, so the whole
// machine can be read — and table-tested, test/unit/manifest.test.ts — in one place.)
//
//   uploading ──complete──▶ processing ──processed──▶ ready
//   uploading ──processed──▶ ready                 (the S3 event beat the API)
//   uploading | processing ──verify_failed──▶ failed
//   uploading ──expire──▶ expired                  (the upload deadline passed before complete)
//   any status ──expire──▶ expired                 (the drop's lifetime, expiresAt, has passed)
//   ready ──replaced──▶ failed                     (the stored object is not the one verified)
//   any other status ──cancel──▶ cancelled         (the owner aborts or deletes the drop)
//
// Two deadlines: `expiresAt` ends the drop's lifetime (absent: the drop never expires), and
// `upload.expiresAt` (≤ expiresAt) ends the upload ticket. Manifests written before drops had
// a lifetime carry no `upload.expiresAt`; their `expiresAt` is the upload deadline and the
// drop never expires — `uploadDeadline` and `dropExpiry` read both shapes.
// Past its lifetime a drop accepts only `expire` and `cancel`.
//
// Events that keep the status: `upload_started` (the streaming route records its multipart
// upload id), `measured` (the streaming route records the size it counted, before the
// object is published), `posted` (the worker chose which form upload to publish: the first
// one recorded wins, so a replayed POST can never become the drop) and `downloaded` (a
// download counted against maxDownloads).
// Every change of a manifest, whoever makes it, is one of these events.
//
// The API (complete, cancel) and the worker (processed, verify_failed) write the same object
// with conditional requests and retry on 412, so `apply` is re-run against whatever the other
// writer left. It must therefore be pure and idempotent, and the API's `complete` and the
// worker's `processed` must commute: the S3 event can reach the worker before the API has
// recorded `processing`, and either order has to end in `ready`.

import type { UploadMode } from './parts.js';

export const DROP_STATUSES = ['uploading', 'processing', 'ready', 'failed', 'cancelled', 'expired'] as const;
export type DropStatus = (typeof DROP_STATUSES)[number];

export const THUMBNAIL_STATES = ['pending', 'ready', 'none', 'failed'] as const;
export type ThumbnailState = (typeof THUMBNAIL_STATES)[number];

export const DROP_SOURCES = ['ticket', 'stream', 'uppy'] as const;
export type DropSource = (typeof DROP_SOURCES)[number];

export interface Thumb {
  width: number;
  height: number;
  key: string;
}

export interface Manifest {
  version: 1;
  id: string;
  status: DropStatus;
  name: string;
  size: number;
  type: string;
  sha256?: string;
  createdAt: string;
  updatedAt: string;
  /** End of the drop's lifetime; absent when it never expires (see dropExpiry for old manifests). */
  expiresAt?: string;
  completedAt?: string;
  readyAt?: string;
  ownerTokenHash: string;
  upload: ManifestUpload;
  source: DropSource;
  maxDownloads?: number;
  /** Downloads counted so far, when maxDownloads is set. */
  downloads?: number;
  thumbnail: ThumbnailState;
  thumbnails: Thumb[];
  thumbnailError?: string;
  sniffedType?: string;
  width?: number;
  height?: number;
  etag?: string;
  failureReason?: string;
  /** The `id` of the API key (keys file) that created the drop; absent for anonymous drops. Private. */
  keyId?: string;
  /** The creator's private metadata (string → string); shown only to that key and the owner token. */
  metadata?: Record<string, string>;
  /** The creating key's allowed media types (exact or `type/*`), which the sniffed type must match too. */
  allowedTypes?: string[];
  /**
   * The drop's password as a salted scrypt hash with its parameters (src/core/passwords.ts);
   * absent: not protected. Private: never in any view, listing, webhook or log.
   */
  passwordHash?: string;
}

export interface ManifestUpload {
  mode: UploadMode;
  uploadId?: string;
  partSize: number;
  partCount: number;
  /** The upload deadline (≤ the drop's expiresAt); absent in manifests from before drop lifetimes. */
  expiresAt?: string;
  /** ETag of the form upload the worker chose to publish (the first one; replays lose). */
  postedEtag?: string;
}

export type DropEvent =
  | { type: 'complete'; at: Date; etag?: string }
  | {
      type: 'processed';
      at: Date;
      sniffedType: string;
      width?: number;
      height?: number;
      thumbnail: ThumbnailState;
      thumbnails: Thumb[];
      thumbnailError?: string;
      etag?: string;
    }
  | { type: 'verify_failed'; at: Date; reason: string }
  /** The worker found other bytes under a ready drop's key than the ones it verified. */
  | { type: 'replaced'; at: Date; reason: string }
  | { type: 'cancel'; at: Date }
  | { type: 'expire'; at: Date }
  | { type: 'upload_started'; at: Date; uploadId: string }
  | { type: 'measured'; at: Date; size: number; upload: { mode: UploadMode; partSize: number; partCount: number } }
  | { type: 'downloaded'; at: Date }
  /** The worker chose this form upload (by ETag) to publish as the drop's original. */
  | { type: 'posted'; at: Date; etag: string };

export type DropEventType = DropEvent['type'];
export const DROP_EVENT_TYPES = [
  'complete',
  'processed',
  'verify_failed',
  'replaced',
  'cancel',
  'expire',
  'upload_started',
  'measured',
  'downloaded',
  'posted',
] as const satisfies readonly DropEventType[];

/** INVALID_TRANSITION: the status forbids the event. LIMIT_REACHED: maxDownloads is used up. */
export type RefusalCode = 'INVALID_TRANSITION' | 'LIMIT_REACHED';

export type ApplyResult =
  | { ok: true; manifest: Manifest; changed: boolean }
  | { ok: false; code: RefusalCode; from: DropStatus; event: DropEventType };

export interface NewManifestArgs {
  id: string;
  name: string;
  size: number;
  type: string;
  sha256?: string;
  ownerTokenHash: string;
  upload: { mode: UploadMode; uploadId?: string; partSize: number; partCount: number };
  source: DropSource;
  maxDownloads?: number;
  now: Date;
  /** End of the drop's lifetime; null: never. */
  expiresAt: Date | null;
  /** The upload deadline; defaults to, and is capped at, expiresAt. */
  uploadExpiresAt?: Date;
  keyId?: string;
  metadata?: Record<string, string>;
  allowedTypes?: string[];
  /** The password's stored hash (hashPassword), for a protected drop. */
  passwordHash?: string;
}

export function newManifest(args: NewManifestArgs): Manifest {
  const now = args.now.toISOString();
  const { mode, uploadId, partSize, partCount } = args.upload;
  const uploadBy = args.expiresAt && args.uploadExpiresAt
    ? new Date(Math.min(args.expiresAt.getTime(), args.uploadExpiresAt.getTime()))
    : (args.uploadExpiresAt ?? args.expiresAt);
  if (!uploadBy) throw new RangeError('a drop without a lifetime needs an upload deadline');
  return {
    version: 1,
    id: args.id,
    status: 'uploading',
    name: args.name,
    size: args.size,
    type: args.type,
    ...(args.sha256 !== undefined && { sha256: args.sha256 }),
    createdAt: now,
    updatedAt: now,
    ...(args.expiresAt && { expiresAt: args.expiresAt.toISOString() }),
    ownerTokenHash: args.ownerTokenHash,
    upload: { mode, ...(uploadId !== undefined && { uploadId }), partSize, partCount, expiresAt: uploadBy.toISOString() },
    source: args.source,
    ...(args.maxDownloads !== undefined && { maxDownloads: args.maxDownloads }),
    thumbnail: 'pending',
    thumbnails: [],
    ...(args.keyId !== undefined && { keyId: args.keyId }),
    ...(args.metadata !== undefined && Object.keys(args.metadata).length > 0 && { metadata: { ...args.metadata } }),
    ...(args.allowedTypes !== undefined && { allowedTypes: [...args.allowedTypes] }),
    ...(args.passwordHash !== undefined && { passwordHash: args.passwordHash }),
  };
}

/** Statuses the drop stays in unless its owner deletes it (cancel). */
export function isTerminal(s: DropStatus): boolean {
  return s === 'ready' || s === 'failed' || s === 'cancelled' || s === 'expired';
}

/** The upload deadline, in ms since the epoch (old manifests: their expiresAt). */
export function uploadDeadline(m: Manifest): number {
  return Date.parse(m.upload.expiresAt ?? m.expiresAt ?? '');
}

/** The end of the drop's lifetime in ms since the epoch; undefined when it never expires (and for old manifests). */
export function dropExpiry(m: Manifest): number | undefined {
  if (m.upload.expiresAt === undefined || m.expiresAt === undefined) return undefined;
  return Date.parse(m.expiresAt);
}

/** Whether the drop's lifetime is over at `now` (at expiresAt itself it is). */
export function lifetimeOver(m: Manifest, now: Date): boolean {
  const end = dropExpiry(m);
  return end !== undefined && now.getTime() >= end;
}

/**
 * The status readers should see. A drop past its lifetime, whatever its status, and an upload
 * whose ticket has run out are expired even before anything rewrites the manifest.
 */
export function effectiveStatus(m: Manifest, now: Date): DropStatus {
  if (lifetimeOver(m, now)) return 'expired';
  if (m.status === 'uploading' && now.getTime() > uploadDeadline(m)) return 'expired';
  return m.status;
}

/**
 * Applies one event. Never mutates `m`. `changed: false` means the event was already applied
 * (a retry or a redelivered message) and there is nothing to write; the same `m` comes back.
 */
export function apply(m: Manifest, e: DropEvent): ApplyResult {
  const from = m.status;
  const invalid: ApplyResult = { ok: false, code: 'INVALID_TRANSITION', from, event: e.type };
  const unchanged: ApplyResult = { ok: true, manifest: m, changed: false };
  // Past its lifetime a drop is only ever recorded as expired, or deleted by its owner.
  if (lifetimeOver(m, e.at) && e.type !== 'expire' && e.type !== 'cancel') return invalid;

  switch (e.type) {
    case 'complete':
      if (from === 'uploading') {
        return changed(m, e.at, 'processing', {
          completedAt: e.at.toISOString(),
          ...(e.etag !== undefined && { etag: e.etag }),
        });
      }
      return from === 'processing' || from === 'ready' ? unchanged : invalid;

    case 'processed': {
      if (from === 'ready') return unchanged;
      if (from !== 'uploading' && from !== 'processing') return invalid;
      const next = changed(m, e.at, 'ready', {
        // The worker got here first when completedAt is unset; the object exists, so the
        // upload was complete by now.
        completedAt: m.completedAt ?? e.at.toISOString(),
        readyAt: e.at.toISOString(),
        sniffedType: e.sniffedType,
        thumbnail: e.thumbnail,
        thumbnails: e.thumbnails.map((t) => ({ ...t })),
        ...(e.width !== undefined && { width: e.width }),
        ...(e.height !== undefined && { height: e.height }),
        ...(e.etag !== undefined && { etag: e.etag }),
      });
      if (e.thumbnailError === undefined) delete next.manifest.thumbnailError;
      else next.manifest.thumbnailError = e.thumbnailError;
      return next;
    }

    case 'verify_failed':
      if (from === 'failed') return unchanged;
      if (from !== 'uploading' && from !== 'processing') return invalid;
      return changed(m, e.at, 'failed', { failureReason: e.reason });

    case 'replaced':
      // Defence in depth: S3 should never let a published object change (create-only
      // URLs), but if it did, the new bytes must not be served under the old verification.
      if (from === 'failed') return unchanged;
      if (from !== 'ready') return invalid;
      return changed(m, e.at, 'failed', { failureReason: e.reason, thumbnail: 'none', thumbnails: [] });

    case 'cancel':
      return from === 'cancelled' ? unchanged : changed(m, e.at, 'cancelled', {});

    case 'expire':
      if (from === 'expired') return unchanged;
      return from === 'uploading' || lifetimeOver(m, e.at) ? changed(m, e.at, 'expired', {}) : invalid;

    case 'upload_started':
      if (from !== 'uploading') return invalid;
      if (m.upload.uploadId === e.uploadId) return unchanged;
      // One drop, one multipart upload: a second id would orphan the first one's parts.
      if (m.upload.uploadId !== undefined) return invalid;
      return changed(m, e.at, from, { upload: { ...m.upload, uploadId: e.uploadId } });

    case 'measured': {
      if (from !== 'uploading') return invalid;
      const { mode, partSize, partCount } = e.upload;
      const same =
        m.size === e.size && m.upload.mode === mode && m.upload.partSize === partSize && m.upload.partCount === partCount;
      if (same) return unchanged;
      const upload: ManifestUpload = {
        mode,
        ...(mode === 'multipart' && m.upload.uploadId !== undefined && { uploadId: m.upload.uploadId }),
        partSize,
        partCount,
        ...(m.upload.expiresAt !== undefined && { expiresAt: m.upload.expiresAt }),
      };
      return changed(m, e.at, from, { size: e.size, upload });
    }

    case 'posted':
      if (from !== 'uploading' || m.upload.mode !== 'single') return invalid;
      if (m.upload.postedEtag === e.etag) return unchanged;
      // One form upload is published; any other one (a replay of the POST policy) is refused.
      if (m.upload.postedEtag !== undefined) return invalid;
      return changed(m, e.at, from, { upload: { ...m.upload, postedEtag: e.etag } });

    case 'downloaded': {
      if (from !== 'ready' && from !== 'processing') return invalid;
      if (m.maxDownloads === undefined) return unchanged;
      const used = m.downloads ?? 0;
      if (used >= m.maxDownloads) return { ok: false, code: 'LIMIT_REACHED', from, event: e.type };
      return changed(m, e.at, from, { downloads: used + 1 });
    }
  }
}

function changed(
  m: Manifest,
  at: Date,
  status: DropStatus,
  fields: Partial<Manifest>,
): { ok: true; manifest: Manifest; changed: true } {
  const manifest: Manifest = {
    ...m,
    upload: { ...m.upload },
    thumbnails: m.thumbnails.map((t) => ({ ...t })),
    ...fields,
    status,
    // API and worker hosts' clocks may disagree slightly; updatedAt must still never go back.
    updatedAt: laterIso(m.updatedAt, at),
  };
  // A drop that will never be processed must not show a thumbnail spinner forever.
  if ((status === 'failed' || status === 'cancelled' || status === 'expired') && manifest.thumbnail === 'pending') {
    manifest.thumbnail = 'none';
  }
  return { ok: true, manifest, changed: true };
}

function laterIso(iso: string, at: Date): string {
  const previous = Date.parse(iso);
  return Number.isFinite(previous) && previous > at.getTime() ? iso : at.toISOString();
}
