/**
 * Compile-time checks that the SDK's wire types (types.ts, and the bodies client.ts sends)
 * are exactly the types generated from the served OpenAPI document (openapi.ts). Nothing here
 * runs: a mismatch — a field renamed, added, dropped or made optional on either side — is a
 * type error in `npm run typecheck`, and test/unit/openapi.test.ts type-checks this file too.
 */
import type { components, operations } from './openapi.js';
import type { ErrorCode } from '../core/errors.js';
import type {
  CollectionDeleted,
  CollectionView,
  CompletedPart,
  CreateCollectionInput,
  CreatedCollection,
  CreateDropInput,
  DropPage,
  DropRef,
  DropView,
  Limits,
  LookupResult,
  ProtectedCollectionView,
  ReaderView,
  SignedPart,
  Ticket,
  Unlock,
  UploadedParts,
} from './types.js';
import type { DropshipApiError } from './errors.js';

/** Structure only: the same fields, optionality and types at every depth. */
type Shape<T> = T extends readonly (infer E)[] ? Shape<E>[] : T extends object ? { [K in keyof T]: Shape<T[K]> } : T;
type Same<A, B> = (<G>() => G extends Shape<A> ? 1 : 2) extends <G>() => G extends Shape<B> ? 1 : 2 ? true : false;
/** Fails to compile unless T is `true`. */
type Check<T extends true> = T;

type Op<N extends keyof operations> = operations[N];
type Json<C> = C extends { content: { 'application/json': infer B } } ? B : never;
type RequestJson<N extends keyof operations> = Json<Op<N>['requestBody']>;
type ResponseJson<N extends keyof operations, S extends keyof Op<N>['responses']> = Json<Op<N>['responses'][S]>;

/** The error body DropshipApiError is read from (errors.ts). */
type ApiErrorBody = { error: { code: DropshipApiError['code']; message: string; details?: DropshipApiError['details'] & object } };

export type WireChecks = [
  Check<Same<CreateDropInput, RequestJson<'createDrop'>>>,
  Check<Same<Ticket, ResponseJson<'createDrop', 201>>>,
  Check<Same<SignedPart, ResponseJson<'createDrop', 201>['parts'][number]>>,
  // client.signParts sends { partNumbers } and reads { parts: SignedPart[] }.
  Check<Same<{ partNumbers: number[] }, RequestJson<'signParts'>>>,
  Check<Same<{ parts: SignedPart[] }, ResponseJson<'signParts', 200>>>,
  Check<Same<UploadedParts, ResponseJson<'listParts', 200>>>,
  // client.complete sends { parts?: CompletedPart[] }.
  Check<Same<{ parts?: CompletedPart[] }, RequestJson<'completeDrop'>>>,
  Check<Same<DropView, ResponseJson<'completeDrop', 200>>>,
  Check<Same<DropView, ResponseJson<'deleteDrop', 200>>>,
  Check<Same<ReaderView, ResponseJson<'getDrop', 200>>>,
  // client.unlock sends { password } and reads the token.
  Check<Same<{ password: string }, RequestJson<'unlockDrop'>>>,
  Check<Same<Unlock, ResponseJson<'unlockDrop', 200>>>,
  // client.listDrops / lookupDrops read these pages.
  Check<Same<DropPage, ResponseJson<'listDrops', 200>>>,
  Check<Same<LookupResult, ResponseJson<'lookupDrops', 200>['drops'][number]>>,
  // Collections.
  Check<Same<CreateCollectionInput, RequestJson<'createCollection'>>>,
  Check<Same<CreatedCollection, ResponseJson<'createCollection', 201>>>,
  Check<Same<DropRef, RequestJson<'addToCollection'>>>,
  Check<Same<CollectionView, ResponseJson<'addToCollection', 200>>>,
  Check<Same<CollectionView | ProtectedCollectionView, ResponseJson<'getCollection', 200>>>,
  Check<Same<Unlock, ResponseJson<'unlockCollection', 200>>>,
  Check<Same<CollectionDeleted, ResponseJson<'deleteCollection', 200>>>,
  Check<Same<Limits, ResponseJson<'getLimits', 200>>>,
  // The document's codes are exactly the catalogue's (src/core/errors.ts).
  Check<Same<ErrorCode, components['schemas']['Error']['error']['code']>>,
  // Every code the document lists is a string the SDK's error carries (code is a plain string there).
  Check<ResponseJson<'getDrop', 404> extends ApiErrorBody ? true : false>,
];
