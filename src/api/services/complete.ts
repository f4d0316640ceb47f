/**
 * Completing an upload: check what S3 holds against the plan (src/core/parts.ts checkParts),
 * publish the object, record `complete`. Idempotent: a retry after success answers with the
 * drop as it is, and a retry whose first answer was lost — the upload gone, the object there
 * with the planned size — finishes the bookkeeping instead of failing.
 */
import { fail } from '../../core/errors.js';
import { dropKeys } from '../../core/layout.js';
import type { Manifest } from '../../core/manifest.js';
import { checkParts, planOf, type ClaimedPart } from '../../core/parts.js';
import type { Clock } from '../../ports/clock.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { DropRecords } from './records.js';

const MESSAGES = {
  PART_MISSING: 'parts not uploaded',
  PART_UNEXPECTED: 'parts outside the plan',
  PART_SIZE_MISMATCH: 'part sizes differ from the plan',
  PART_ETAG_MISMATCH: 'part ETags differ from what S3 holds',
} as const;

export function createCompleter(deps: { store: ObjectStore; records: DropRecords; clock: Clock }) {
  const { store, records, clock } = deps;

  /** The ETag of the published object, publishing it from the parts when they make the planned file. */
  async function publish(m: Manifest, claimed: ClaimedPart[] | undefined): Promise<string> {
    const key = dropKeys(m.id).original;
    if (m.upload.mode === 'single') {
      const head = await store.head(key);
      if (!head) throw fail('PART_MISSING', 'the file has not been uploaded', { missing: [1] });
      if (head.size !== m.size) {
        throw fail('PART_SIZE_MISMATCH', 'the uploaded size differs from the declared size', { expected: m.size, actual: head.size });
      }
      return head.etag;
    }
    const stored = await store.listParts(key, m.upload.uploadId!);
    if (!stored) {
      // The upload is gone. If the object is there, an earlier complete succeeded in S3 and
      // only its answer was lost: finish the bookkeeping instead of failing the retry.
      const head = await store.head(key);
      if (!head || head.size !== m.size) throw fail('DROP_NOT_UPLOADING', 'the multipart upload no longer exists');
      return head.etag;
    }
    const check = checkParts(planOf(m.size, m.upload), stored, claimed);
    if (!check.ok) throw fail(check.code, MESSAGES[check.code], check.details);
    try {
      return await store.completeMultipart(key, m.upload.uploadId!, check.parts);
    } catch (e) {
      // A concurrent complete got there first.
      const head = await store.head(key);
      if (!head || head.size !== m.size) throw e;
      return head.etag;
    }
  }

  return async function complete(id: string, ownerToken: string | undefined, claimed: ClaimedPart[] | undefined): Promise<Manifest> {
    const rec = await records.loadOwned(id, ownerToken);
    const m = await records.expireIfDue(rec.manifest);
    if (m.status === 'processing' || m.status === 'ready') return m; // a retry after success
    records.requireUploading(m);
    const etag = await publish(m, claimed);
    return records.transition(id, { type: 'complete', at: clock(), etag });
  };
}
