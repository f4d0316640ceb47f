/**
 * Wire shapes, derived from the api's TypeBox schemas so the client cannot drift from the
 * server. Type-only imports: nothing server-side ends up in a browser bundle.
 */
import type { Static } from 'typebox';
import type {
  CreateDropBody,
  CreateDropResponse,
  DropView as DropViewSchema,
  SignedPart as SignedPartSchema,
  UploadedPartsResponse,
} from '../api/schemas/drops.js';

export type Ticket = Static<typeof CreateDropResponse>;
export type SignedPart = Static<typeof SignedPartSchema>;
export type DropView = Static<typeof DropViewSchema>;
export type UploadedParts = Static<typeof UploadedPartsResponse>;
export type DropStatus = DropView['status'];

export type CreateDropInput = Static<typeof CreateDropBody>;

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/** Statuses after which a drop never changes again. */
export const TERMINAL_STATUSES: readonly DropStatus[] = ['ready', 'failed', 'cancelled', 'expired'];
