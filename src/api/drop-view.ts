/**
 * The public view of a drop (GET /v1/drops/:id, the share page, SSE): what readers may see of
 * a manifest. `withMetadata` adds the private metadata — only for the key that created the
 * drop or its owner token (see `mayReadPrivate`); the share page and SSE never pass it.
 */
import { dropExpiry, type Manifest } from '../core/manifest.js';
import type { DropView } from './schemas/drops.js';

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
    ...(opts.withMetadata ? { metadata: { ...(m.metadata ?? {}) } } : {}),
  };
}
