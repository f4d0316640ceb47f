/**
 * The dropship client SDK — browser and Node. Nothing here imports node: modules; Node-only
 * helpers (files on disk, hashing) live in ./node.ts.
 *
 *   const client = new DropshipClient({ baseUrl: 'https://drop.example.com' });
 *   const drop = await client.upload(blobSource(file), { onTicket: (t) => show(t.shareUrl), onProgress });
 */
export { DropshipClient, type DropshipClientOptions } from './client.js';
export { DropshipApiError, DropshipTransferError, apiErrorFromResponse, isAbortError, parseRetryAfter } from './errors.js';
export { sentenceFor } from './sentences.js';
export { blobSource, partSize, DropshipResumeError, type UploadOptions, type UploadSource } from './upload.js';
export { openResumable, DownloadResumeError, type ResumableDownload, type ResumableOptions } from './resume.js';
export { ProgressMeter, type UploadProgress } from './progress.js';
export { backoffDelay, classifyPartFailure, retryDelay, type PartFailure } from './retry.js';
export { planSignBatch, UrlCache, chunk } from './batching.js';
export {
  TERMINAL_STATUSES,
  isLockedView,
  type CollectionDeleted,
  type CollectionView,
  type ProtectedCollectionView,
  type CompletedPart,
  type CreateCollectionInput,
  type CreatedCollection,
  type DropRef,
  type CreateDropInput,
  type CreateDropRequest,
  type DropPage,
  type DropStatus,
  type DropView,
  type Limits,
  type ListDropsOptions,
  type LookupResult,
  type ProtectedDropView,
  type ReaderView,
  type Unlock,
  type SignedPart,
  type Ticket,
  type UploadedParts,
} from './types.js';

/** Sizes as people read them ("1.50 KiB", "30.0 MiB"): the same text the share page shows. */
export { formatBytes } from '../core/format.js';
