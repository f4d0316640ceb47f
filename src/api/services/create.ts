/**
 * Creating a drop: name and size checks, the part plan (dropship's, or a client's own cut
 * held to S3's rules), admission against the ticket limits, the multipart upload, the
 * manifest, and the first batch of part URLs.
 *
 * The creating key's policy (src/core/policy.ts) bounds the size, the declared type and the
 * lifetime before anything is created; its id and allowed types go into the manifest (the
 * worker checks the sniffed type against them), and the drop gets an entry in the key's
 * index (src/ports/key-index.ts) before its manifest is written.
 *
 * Rollback: whatever fails after admission releases the ticket and aborts the multipart
 * upload; a manifest already written is marked cancelled, so no "uploading" drop is left
 * whose upload is gone; an expiry marker or key-index entry already written is deleted.
 */
import { fail } from '../../core/errors.js';
import { hashOwnerToken, newDropId, newOwnerToken } from '../../core/ids.js';
import { dropKeys } from '../../core/layout.js';
import { newManifest, type DropSource, type Manifest } from '../../core/manifest.js';
import { decideLifetime, dropDeadlines } from '../../core/retention.js';
import { checkTicket, lifetimeLimits } from '../../core/policy.js';
import { indexExpiry, unindexExpiry } from '../../ports/expiry-index.js';
import { indexForKey, unindexForKey } from '../../ports/key-index.js';
import { sanitizeName, safeMimeType } from '../../core/names.js';
import { hashPassword, passwordLengthOk, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../core/passwords.js';
import { clientPlan, PlanError, planUpload, type ClientPlanRequest, type UploadPlan } from '../../core/parts.js';
import type { ApiKey, Config } from '../../config.js';
import type { Clock } from '../../ports/clock.js';
import type { ManifestRepo } from '../../ports/manifests.js';
import { PreconditionFailed, type ObjectStore } from '../../ports/object-store.js';
import type { Signer } from '../../ports/signer.js';
import type { CreateDropBody } from '../schemas/drops.js';
import { signPartUrls, type SignedPart } from './signing.js';
import type { OpenTickets } from './tickets.js';

/** The ticket request as the route validated it, plus what the server knows about it. */
export type CreateDropInput = CreateDropBody & {
  source?: DropSource;
  /** API key or client IP, for the per-uploader ticket limit. */
  owner: string;
  /** The verified API key that asks (its id and policy); absent for anonymous uploads. */
  key?: ApiKey;
  /** Sign the first batch of part URLs (default true). */
  signFirstBatch?: boolean;
  /** The client's own cut of the file instead of dropship's plan (Uppy decides its part size itself). */
  plan?: ClientPlanRequest;
  /** Where the password came from, for its error (default body/password). */
  passwordField?: string;
};

export interface CreatedDrop {
  manifest: Manifest;
  ownerToken: string;
  parts: SignedPart[];
}

export interface CreateDeps {
  config: Config;
  store: ObjectStore;
  manifests: ManifestRepo;
  signer: Signer;
  tickets: OpenTickets;
  clock: Clock;
}

/** The most bytes metadata may take, JSON-encoded. */
export const METADATA_MAX_BYTES = 2048;

/** The per-entry rules are the schema's (schemas/drops.ts); the total size is checked here. */
export function checkMetadata(metadata: Record<string, string> | undefined): void {
  if (metadata === undefined) return;
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > METADATA_MAX_BYTES) {
    throw fail('VALIDATION_FAILED', `metadata may take at most ${METADATA_MAX_BYTES} bytes as JSON (this is ${bytes})`, {
      field: 'body/metadata',
      maxBytes: METADATA_MAX_BYTES,
    });
  }
}

/**
 * A password from a route whose schema could not check it (a header, Uppy's free-form meta)
 * held to the schema's rule, then hashed (async scrypt). Never echoed in an error.
 */
export async function passwordHashOf(password: string | undefined, field: string): Promise<string | undefined> {
  if (password === undefined) return undefined;
  if (!passwordLengthOk(password)) {
    throw fail('PASSWORD_INVALID', `the password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`, {
      field,
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: PASSWORD_MAX_LENGTH,
    });
  }
  return hashPassword(password);
}

/** The key's policy against a request, before anything is created: 413 or 415. */
export function enforcePolicy(key: ApiKey | undefined, req: { size?: number; type?: string }): void {
  const verdict = checkTicket(key, req);
  if (!verdict.ok) throw fail(verdict.code, verdict.message, verdict.details);
}

function planFor(input: CreateDropInput, config: Config): UploadPlan {
  try {
    return input.plan ? clientPlan(input.size, input.plan) : planUpload(input.size, { singlePutMax: config.DROPSHIP_SINGLE_PUT_MAX });
  } catch (e) {
    if (e instanceof PlanError) throw fail(e.code === 'SIZE_TOO_LARGE' ? 'FILE_TOO_LARGE' : 'SIZE_INVALID', e.message);
    throw e;
  }
}

export function createDropCreator(deps: CreateDeps) {
  const { config, store, manifests, signer, tickets, clock } = deps;

  async function admit(id: string, owner: string, expiresAt: Date): Promise<void> {
    const admission = await tickets.admit(id, owner, expiresAt.getTime());
    if (admission.ok) return;
    throw admission.reason === 'total'
      ? fail('UPLOAD_SLOTS_FULL', 'the server is at its upload capacity; retry shortly', {}, admission.retryAfter)
      : fail(
          'TOO_MANY_OPEN_TICKETS',
          `at most ${config.DROPSHIP_MAX_OPEN_TICKETS} unfinished uploads at once; complete or cancel some`,
          {},
          admission.retryAfter,
        );
  }

  return async function create(input: CreateDropInput): Promise<CreatedDrop> {
    const name = sanitizeName(input.name);
    if (!name.ok) throw fail('NAME_INVALID', `name is not acceptable (${name.reason})`, { reason: name.reason });
    if (input.size > config.DROPSHIP_MAX_FILE_SIZE) {
      throw fail('FILE_TOO_LARGE', `files may be at most ${config.DROPSHIP_MAX_FILE_SIZE} bytes`, {
        maxSize: config.DROPSHIP_MAX_FILE_SIZE,
      });
    }
    enforcePolicy(input.key, input);
    checkMetadata(input.metadata);
    const plan = planFor(input, config);
    const lifetime = decideLifetime(
      input.expiresIn,
      lifetimeLimits(input.key, { defaultSeconds: config.DROPSHIP_DEFAULT_EXPIRES_IN, maxSeconds: config.DROPSHIP_MAX_EXPIRES_IN }),
    );
    if (!lifetime.ok) {
      throw fail('VALIDATION_FAILED', lifetime.reason, { field: 'body/expiresIn', min: lifetime.min, max: lifetime.max });
    }
    // Hashed before admission, so a slow hash never holds a ticket slot.
    const passwordHash = await passwordHashOf(input.password, input.passwordField ?? 'body/password');
    const created = clock();
    const { expiresAt, uploadExpiresAt } = dropDeadlines(created, lifetime.seconds, config.DROPSHIP_TICKET_TTL);
    const id = newDropId();
    await admit(id, input.owner, uploadExpiresAt);

    const key = dropKeys(id).original;
    let uploadId: string | undefined;
    let written = false;
    let marked: Date | undefined;
    let indexed: Manifest | undefined;
    try {
      const ownerToken = newOwnerToken();
      const draft = newManifest({
        id,
        name: name.name,
        size: input.size,
        type: safeMimeType(input.type),
        ...(input.sha256 ? { sha256: input.sha256.toLowerCase() } : {}),
        ownerTokenHash: hashOwnerToken(ownerToken),
        upload: { mode: plan.mode, partSize: plan.partSize, partCount: plan.partCount },
        source: input.source ?? 'ticket',
        ...(input.maxDownloads ? { maxDownloads: input.maxDownloads } : {}),
        now: created,
        expiresAt,
        uploadExpiresAt,
        ...(input.key && { keyId: input.key.id }),
        ...(input.key?.allowedTypes && { allowedTypes: input.key.allowedTypes }),
        ...(input.metadata && { metadata: input.metadata }),
        ...(passwordHash !== undefined && { passwordHash }),
      });
      // Three writes that do not depend on each other go out at once, all before the manifest:
      // the multipart upload, the expiry marker (a drop never exists without the marker that
      // will delete it) and the key's index entry (a key's drop is never missing from its
      // listing). A ticket then waits for two storage round trips, not four.
      const [upload, marker, entry] = await Promise.allSettled([
        plan.mode === 'multipart' ? store.createMultipart(key, 'application/octet-stream') : Promise.resolve(undefined),
        expiresAt ? indexExpiry(store, draft, expiresAt) : Promise.resolve(),
        indexForKey(store, draft),
      ]);
      if (upload.status === 'fulfilled') uploadId = upload.value;
      if (marker.status === 'fulfilled' && expiresAt) marked = expiresAt;
      if (entry.status === 'fulfilled') indexed = draft;
      for (const r of [upload, marker, entry]) if (r.status === 'rejected') throw r.reason;
      const manifest: Manifest = uploadId ? { ...draft, upload: { ...draft.upload, uploadId } } : draft;
      await manifests.create(manifest);
      written = true;
      const batch = Math.min(plan.partCount, config.DROPSHIP_TICKET_PARTS, config.DROPSHIP_PARTS_PER_BATCH);
      const first = input.signFirstBatch === false ? [] : Array.from({ length: batch }, (_, i) => i + 1);
      return { manifest, ownerToken, parts: await signPartUrls(signer, manifest, first, config.DROPSHIP_PART_URL_TTL, created) };
    } catch (e) {
      await tickets.release(id);
      if (uploadId) await store.abortMultipart(key, uploadId).catch(() => {});
      if (written) await manifests.applyEvent(id, { type: 'cancel', at: clock() }).catch(() => {});
      if (indexed) await unindexForKey(store, indexed).catch(() => {});
      // A cancelled manifest keeps its marker: the sweep deletes it with the drop.
      if (marked && !written) await unindexExpiry(store, id, marked).catch(() => {});
      if (e instanceof PreconditionFailed) throw fail('INTERNAL', 'drop id collision');
      throw e;
    }
  };
}

