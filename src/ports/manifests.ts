/**
 * Drop manifests (drops/{id}/manifest.json), the service's only state, kept on any
 * ObjectStore. Creation is a conditional create (two tickets can never share an id) and
 * every change is one state-machine event, applied by `applyEvent` as a read-modify-write
 * with If-Match that replays the event on a concurrent write (412). The api and the worker
 * race on the same drop this way and neither loses the other's change: `apply` is pure and
 * idempotent and its transitions commute (src/core/manifest.ts).
 *
 * Contention that outlasts the retries becomes STORAGE_BUSY (503 with Retry-After), the one
 * place that decides what a client sees when a drop is written too often at once.
 */
import { fail } from '../core/errors.js';
import { dropKeys } from '../core/layout.js';
import { retentionTags } from '../core/retention.js';
import { apply, type DropEvent, type DropStatus, type Manifest, type RefusalCode } from '../core/manifest.js';
import { PreconditionFailed, type ObjectStore } from './object-store.js';

export interface ManifestRecord {
  manifest: Manifest;
  etag: string;
}

export type EventOutcome =
  /** `changed: false`: the event was already applied (a retry); nothing was written. */
  | { ok: true; manifest: Manifest; changed: boolean }
  /** The state machine refused the event; the manifest is as stored. */
  | { ok: false; manifest: Manifest; code: RefusalCode; from: DropStatus };

export interface ManifestRepo {
  /** Fails with PreconditionFailed when a manifest for this id already exists. */
  create(m: Manifest): Promise<ManifestRecord>;
  get(id: string): Promise<ManifestRecord | undefined>;
  /** Applies one event through the state machine; undefined when there is no manifest. */
  applyEvent(id: string, event: DropEvent): Promise<EventOutcome | undefined>;
}

export const MANIFEST_WRITE_ATTEMPTS = 10;

export function createManifestRepo(
  store: ObjectStore,
  opts: { attempts?: number; backoff?: (attempt: number) => Promise<void> } = {},
): ManifestRepo {
  const attempts = opts.attempts ?? MANIFEST_WRITE_ATTEMPTS;
  // Someone else wrote in between: back off a little, with jitter, and replay.
  const backoff = opts.backoff ?? ((attempt: number) => new Promise<void>((r) => setTimeout(r, Math.random() * 20 * attempt)));

  const write = (m: Manifest, cond: { ifNoneMatch?: boolean; ifMatch?: string }) =>
    store.put(dropKeys(m.id).manifest, JSON.stringify(m), {
      contentType: 'application/json',
      cacheControl: 'no-store',
      // Every write replaces the object's tags: carry the retention class each time.
      tags: retentionTags(m),
      ...cond,
    });

  const get = async (id: string): Promise<ManifestRecord | undefined> => {
    const r = await store.getText(dropKeys(id).manifest);
    return r && { manifest: JSON.parse(r.text) as Manifest, etag: r.etag };
  };

  return {
    async create(m) {
      const etag = await write(m, { ifNoneMatch: true });
      return { manifest: m, etag };
    },
    get,
    async applyEvent(id, event) {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const current = await get(id);
        if (!current) return undefined;
        const r = apply(current.manifest, event);
        if (!r.ok) return { ok: false, manifest: current.manifest, code: r.code, from: r.from };
        if (!r.changed) return { ok: true, manifest: current.manifest, changed: false };
        try {
          await write(r.manifest, { ifMatch: current.etag });
          return { ok: true, manifest: r.manifest, changed: true };
        } catch (e) {
          if (!(e instanceof PreconditionFailed)) throw e;
          if (attempt < attempts) await backoff(attempt);
        }
      }
      throw fail('STORAGE_BUSY', 'this drop is being changed by many requests at once; retry shortly', {}, 1);
    },
  };
}
