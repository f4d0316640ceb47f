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
  SignedPart as SignedPartSchema,
  UploadedPartsResponse,
} from '../api/schemas/drops.js';
import type { LimitsResponse } from '../api/schemas/limits.js';

export type Ticket = Static<typeof CreateDropResponse>;
export type SignedPart = Static<typeof SignedPartSchema>;
export type DropView = Static<typeof DropViewSchema>;
export type UploadedParts = Static<typeof UploadedPartsResponse>;
export type DropStatus = DropView['status'];

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
