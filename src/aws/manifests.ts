/**
 * Drop manifests in S3, the service's only state. Reads return the ETag; updates are
 * read-modify-write with If-Match and retry on 412, so the api and the worker can race on
 * the same drop and neither loses the other's change (the state machine's transitions
 * commute, so replaying a change on the newer manifest is always right).
 */
import { dropKeys } from '../core/layout.js';
import type { Manifest } from '../core/manifest.js';
import { PreconditionFailed, type ObjectStore } from './store.js';

export interface ManifestRecord {
  manifest: Manifest;
  etag: string;
}

export interface ManifestRepo {
  /** Fails with PreconditionFailed when a manifest for this id already exists. */
  create(m: Manifest): Promise<ManifestRecord>;
  get(id: string): Promise<ManifestRecord | undefined>;
  /**
   * Applies `change` to the current manifest and writes it conditionally, retrying on a
   * concurrent write. `change` returns undefined for "nothing to write". Returns the
   * manifest as stored afterwards, or undefined when there is no manifest.
   */
  update(
    id: string,
    change: (m: Manifest) => Manifest | undefined,
  ): Promise<{ record: ManifestRecord; changed: boolean } | undefined>;
}

const MAX_ATTEMPTS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createManifestRepo(store: ObjectStore): ManifestRepo {
  const write = (m: Manifest, cond: { ifNoneMatch?: boolean; ifMatch?: string }) =>
    store.put(dropKeys(m.id).manifest, JSON.stringify(m), {
      contentType: 'application/json',
      cacheControl: 'no-store',
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
    async update(id, change) {
      for (let attempt = 1; ; attempt++) {
        const current = await get(id);
        if (!current) return undefined;
        const next = change(current.manifest);
        if (!next) return { record: current, changed: false };
        try {
          const etag = await write(next, { ifMatch: current.etag });
          return { record: { manifest: next, etag }, changed: true };
        } catch (e) {
          if (!(e instanceof PreconditionFailed) || attempt >= MAX_ATTEMPTS) throw e;
          // Someone else wrote in between: back off a little (with jitter) and replay.
          await sleep(Math.random() * 20 * attempt);
        }
      }
    },
  };
}
