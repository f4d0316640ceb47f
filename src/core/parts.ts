// Upload planning: how a file of a given size is cut into S3 parts.
//
// S3's multipart limits: every part but the last is at least 5 MiB and at most 5 GiB, an
// upload has at most 10,000 parts, an object is at most 5 TiB. Small files go as one
// presigned PUT instead, which saves the create/complete round trips.
// The plan is pure arithmetic so the API (signing, checking sizes on complete), the client
// and the tests all agree on where every byte goes. (After tusd's calcOptimalPartSize.)

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
export const TIB = 1024 * GIB;
export const MIN_PART_SIZE = 5 * MIB;
export const MAX_PART_SIZE = 5 * GIB;
export const MAX_PARTS = 10_000;
export const MAX_OBJECT_SIZE = 5 * TIB;
/** S3 refuses a single PUT above 5 GiB. */
export const MAX_SINGLE_PUT_SIZE = 5 * GIB;
export const DEFAULT_SINGLE_PUT_MAX = 16 * MIB;
/** Larger than S3's minimum: fewer URLs to sign and fewer requests for mid-sized files. */
export const DEFAULT_MIN_PART_SIZE = 8 * MIB;

export type UploadMode = 'single' | 'multipart';

export interface UploadPlan {
  mode: UploadMode;
  partSize: number;
  partCount: number;
  lastPartSize: number;
}

export interface PlanOptions {
  /** Files up to this size (inclusive) are uploaded with one PUT. */
  singlePutMax?: number;
  /** Starting part size for multipart uploads; grows for large files. */
  minPartSize?: number;
}

export type PlanErrorCode = 'SIZE_INVALID' | 'SIZE_TOO_LARGE';

export class PlanError extends Error {
  override readonly name = 'PlanError';
  constructor(
    readonly code: PlanErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface PartRange {
  partNumber: number;
  offset: number;
  size: number;
}

export function planUpload(size: number, opts: PlanOptions = {}): UploadPlan {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new PlanError('SIZE_INVALID', `size must be a non-negative safe integer, got ${size}`);
  }
  if (size > MAX_OBJECT_SIZE) {
    throw new PlanError('SIZE_TOO_LARGE', `size ${size} exceeds the S3 maximum of ${MAX_OBJECT_SIZE}`);
  }
  const singlePutMax = opts.singlePutMax ?? DEFAULT_SINGLE_PUT_MAX;
  const minPartSize = opts.minPartSize ?? DEFAULT_MIN_PART_SIZE;
  // Options come from configuration, not from users: a bad value is a programming error.
  if (!Number.isSafeInteger(singlePutMax) || singlePutMax < 0 || singlePutMax > MAX_SINGLE_PUT_SIZE) {
    throw new RangeError(`singlePutMax must be an integer in [0, ${MAX_SINGLE_PUT_SIZE}]`);
  }
  if (!Number.isSafeInteger(minPartSize) || minPartSize < MIN_PART_SIZE || minPartSize > MAX_PART_SIZE) {
    throw new RangeError(`minPartSize must be an integer in [${MIN_PART_SIZE}, ${MAX_PART_SIZE}]`);
  }

  if (size <= singlePutMax) {
    return { mode: 'single', partSize: size, partCount: 1, lastPartSize: size };
  }

  // The smallest part size that fits in MAX_PARTS, rounded up to whole MiB so part sizes are
  // readable and stable across nearby file sizes. 5 TiB needs 525 MiB parts (9,987 of them),
  // far below MAX_PART_SIZE, so the cap below never binds for a valid size.
  const fitting = roundUpTo(ceilDiv(size, MAX_PARTS), MIB);
  const partSize = Math.min(Math.max(minPartSize, fitting), MAX_PART_SIZE);
  const partCount = ceilDiv(size, partSize);
  return { mode: 'multipart', partSize, partCount, lastPartSize: size - (partCount - 1) * partSize };
}

/** The bytes of part `partNumber` (1-based, as S3 numbers parts). */
export function partRange(plan: UploadPlan, partNumber: number): PartRange {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > plan.partCount) {
    throw new RangeError(`partNumber must be an integer in [1, ${plan.partCount}], got ${partNumber}`);
  }
  const size = partNumber === plan.partCount ? plan.lastPartSize : plan.partSize;
  return { partNumber, offset: (partNumber - 1) * plan.partSize, size };
}

export function partSizeOf(plan: UploadPlan, partNumber: number): number {
  return partRange(plan, partNumber).size;
}

/** The file size a plan was made for. */
export function plannedSize(plan: UploadPlan): number {
  return (plan.partCount - 1) * plan.partSize + plan.lastPartSize;
}

// Integer ceiling division that does not trust the float quotient near whole numbers.
function ceilDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q -= 1;
  return q * b < a ? q + 1 : q;
}

function roundUpTo(n: number, multiple: number): number {
  return ceilDiv(n, multiple) * multiple;
}
