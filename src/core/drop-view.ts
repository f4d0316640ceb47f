/**
 * The public view of a drop: what readers may see of a manifest (GET /v1/drops/:id, the
 * share page, server-sent events) and the `data` of a webhook. Pure, so the api and the
 * worker render it alike; the api's TypeBox schema (src/api/schemas/drops.ts) is checked
 * against this type at compile time (src/api/drop-view.ts).
 */
import { dropExpiry, type DropStatus, type Manifest, type ThumbnailState } from './manifest.js';

export interface DropView {
  id: string;
  status: DropStatus;
  name: string;
  size: number;
  type: string;
  createdAt: string;
  expiresAt?: string;
  completedAt?: string;
  readyAt?: string;
  width?: number;
  height?: number;
  thumbnail: ThumbnailState;
  thumbnails: { width: number; height: number; url: string }[];
  shareUrl: string;
  downloadUrl: string;
  failureReason?: string;
  /** The download limit the drop was created with; absent: none. */
  maxDownloads?: number;
  /** Downloads left before the link answers 410, when there is a limit. */
  downloadsLeft?: number;
  /** The creator's private metadata: only with `withMetadata` (the creating key, the owner token, webhooks). */
  metadata?: Record<string, string>;
  /** Present (true) when the drop has a password; its readers saw it because they unlocked, own or created it. */
  protected?: true;
}

/** All a reader who has not unlocked a password-protected drop sees of it. */
export interface ProtectedDropView {
  id: string;
  status: DropStatus;
  expiresAt?: string;
  protected: true;
}

/** Whether the drop has a password. */
export const isProtected = (m: Pick<Manifest, 'passwordHash'>): boolean => m.passwordHash !== undefined;

/** The view of a protected drop before it is unlocked: that it exists, its status and expiry — nothing about the file. */
export function protectedView(m: Manifest): ProtectedDropView {
  const expiry = dropExpiry(m);
  return { id: m.id, status: m.status, ...(expiry !== undefined ? { expiresAt: new Date(expiry).toISOString() } : {}), protected: true };
}

/**
 * `base`: the public URL the links start with (DROPSHIP_PUBLIC_URL). `withMetadata` adds the
 * private metadata — only for the key that created the drop or its owner token, and in
 * webhooks; the share page and SSE never pass it.
 */
export function dropView(m: Manifest, base: string, opts: { withMetadata?: boolean } = {}): DropView {
  const expiry = dropExpiry(m);
  return {
    id: m.id,
    status: m.status,
    name: m.name,
    size: m.size,
    type: m.sniffedType ?? m.type,
    createdAt: m.createdAt,
    // The drop's expiry; absent when it never expires (and for manifests from before drop lifetimes).
    ...(expiry !== undefined ? { expiresAt: new Date(expiry).toISOString() } : {}),
    ...(m.completedAt ? { completedAt: m.completedAt } : {}),
    ...(m.readyAt ? { readyAt: m.readyAt } : {}),
    ...(m.width !== undefined ? { width: m.width } : {}),
    ...(m.height !== undefined ? { height: m.height } : {}),
    thumbnail: m.thumbnail,
    thumbnails: m.thumbnails.map((t) => ({ width: t.width, height: t.height, url: `${base}/d/${m.id}/thumb/${t.width}` })),
    shareUrl: `${base}/d/${m.id}`,
    downloadUrl: `${base}/d/${m.id}/download`,
    ...(m.failureReason ? { failureReason: m.failureReason } : {}),
    ...(m.maxDownloads !== undefined
      ? { maxDownloads: m.maxDownloads, downloadsLeft: Math.max(0, m.maxDownloads - (m.downloads ?? 0)) }
      : {}),
    ...(opts.withMetadata ? { metadata: { ...(m.metadata ?? {}) } } : {}),
    ...(m.passwordHash !== undefined ? { protected: true as const } : {}),
  };
}
