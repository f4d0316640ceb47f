/**
 * Wire shapes, derived from the api's TypeBox schemas so the client cannot drift from the
 * server. Type-only imports: nothing server-side ends up in a browser bundle.
 */
import type { Static } from 'typebox';
import type {
  CreateDropBody,
  CreateDropResponse,
  DropView as DropViewSchema,
  ListResponse,
  LookupResponse,
  ProtectedDropView as ProtectedDropViewSchema,
  UnlockResponse,
  SignedPart as SignedPartSchema,
  UploadedPartsResponse,
} from '../api/schemas/drops.js';
import type {
  CollectionDeleted as CollectionDeletedSchema,
  CollectionView as CollectionViewSchema,
  ProtectedCollectionView as ProtectedCollectionViewSchema,
  CreateCollectionBody,
  CreateCollectionResponse,
  DropRef as DropRefSchema,
} from '../api/schemas/collections.js';
import type { LimitsResponse } from '../api/schemas/limits.js';

export type Ticket = Static<typeof CreateDropResponse>;
export type SignedPart = Static<typeof SignedPartSchema>;
export type DropView = Static<typeof DropViewSchema>;
export type UploadedParts = Static<typeof UploadedPartsResponse>;
export type DropStatus = DropView['status'];
/** A password-protected drop as a reader who has not unlocked it sees it: nothing about the file. */
export type ProtectedDropView = Static<typeof ProtectedDropViewSchema>;
/** What `GET /v1/drops/:id` answers: the drop, or — protected and not unlocked — its status only. */
export type ReaderView = DropView | ProtectedDropView;
/** `POST /d/:id/unlock`: the token that reads the drop (as `X-Unlock-Token`) until `expiresAt`. */
export type Unlock = Static<typeof UnlockResponse>;

/** Whether a view is the status-only view of a protected drop not unlocked. */
export const isLockedView = (v: ReaderView | LookupResult): v is ProtectedDropView => v.status !== 'not_found' && !('name' in v);

export type CreateDropInput = Static<typeof CreateDropBody>;
/**
 * `password` (4..256 characters) in a ticket's body protects its downloads, where the server
 * supports it (`passwords` in `limits()`); sent through as it is.
 */
export type CreateDropRequest = CreateDropInput & { password?: string };
/** `GET /v1/limits`: what an upload may ask for here (the calling key's limits, with a key). */
export type Limits = Static<typeof LimitsResponse>;
/** One page of `GET /v1/drops`: the key's drops, newest first, and the cursor of the next page. */
export type DropPage = Static<typeof ListResponse>;
/** `POST /v1/drops/lookup`: a view, or `{ id, status: "not_found" }`, per id asked. */
export type LookupResult = Static<typeof LookupResponse>['drops'][number];
/** `POST /v1/collections`: a title and drops to put in it at once (each with its owner token). */
export type CreateCollectionInput = Static<typeof CreateCollectionBody>;
/** The new collection: its id, its page (`shareUrl`) and its owner token (shown once). */
export type CreatedCollection = Static<typeof CreateCollectionResponse>;
/** A drop and its owner token, as a collection is given it. */
export type DropRef = Static<typeof DropRefSchema>;
/** `GET /v1/collections/:id`: its drops in the order added, each as the public sees it. */
export type CollectionView = Static<typeof CollectionViewSchema>;
export type CollectionDeleted = Static<typeof CollectionDeletedSchema>;
/** A password-protected collection not unlocked: its id and expiry only. */
export type ProtectedCollectionView = Static<typeof ProtectedCollectionViewSchema>;

export interface ListDropsOptions {
  /** 1..100 (server default 50). */
  limit?: number;
  cursor?: string;
  status?: DropStatus;
  signal?: AbortSignal;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/** Statuses after which a drop never changes again. */
export const TERMINAL_STATUSES: readonly DropStatus[] = ['ready', 'failed', 'cancelled', 'expired'];
