/**
 * The ManifestRepo as tests use it: the product's repository plus `rewrite`, a conditional
 * read-modify-write that bypasses the state machine. Tests use it to put a drop into a state
 * the product would only reach through time or another writer (a ticket already past its
 * deadline, a worker's result landing mid-request).
 */
import { dropKeys } from '../../src/core/layout.js';
import type { Manifest } from '../../src/core/manifest.js';
import { createManifestRepo, type ManifestRepo } from '../../src/ports/manifests.js';
import type { ObjectStore } from '../../src/ports/object-store.js';

export interface TestManifests extends ManifestRepo {
  rewrite(id: string, change: (m: Manifest) => Manifest): Promise<Manifest>;
}

export function testManifests(store: ObjectStore): TestManifests {
  const repo = createManifestRepo(store);
  return {
    ...repo,
    async rewrite(id, change) {
      const key = dropKeys(id).manifest;
      const current = await store.getText(key);
      if (!current) throw new Error(`no manifest for ${id}`);
      const next = change(JSON.parse(current.text) as Manifest);
      await store.put(key, JSON.stringify(next), { contentType: 'application/json', cacheControl: 'no-store', ifMatch: current.etag });
      return next;
    },
  };
}
