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
/** Larger than S3's minimum: fewer URLs to sign and fewer requests for large files. */
export const DEFAULT_MIN_PART_SIZE = 8 * MIB;
/**
 * Mid-size files are cut into about this many parts (parts down to S3's 5 MiB minimum), so
 * an interrupted upload keeps most of its work: a 20 MiB file goes as four 5 MiB parts
 * rather than 8 + 8 + 4, and a reload loses at most the parts in flight.
 */
export const RESUMABLE_PARTS = 8;
/**
 * Rounds of parts an upload is sent in at least (see partsInFlight): with every part in
 * flight at once, they all land near the end and a reload finds none in S3.
 */
export const MIN_PART_ROUNDS = 4;

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
  /**
   * Part size of large multipart uploads; grows for very large files (10,000 parts at most).
   * Mid-size files get smaller parts, down to S3's 5 MiB, to have about RESUMABLE_PARTS parts.
   */
  minPartSize?: number;
}

export type PlanErrorCode = 'SIZE_INVALID' | 'SIZE_TOO_LARGE';

export class PlanError extends Error {
  override readonly name = 'PlanError';
  readonly code: PlanErrorCode;
  constructor(code: PlanErrorCode, message: string) {
    super(message);
    this.code = code;
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
  // Mid-size files: about RESUMABLE_PARTS parts of whole MiB, never below S3's minimum.
  const resumable = Math.min(minPartSize, Math.max(MIN_PART_SIZE, roundUpTo(ceilDiv(size, RESUMABLE_PARTS), MIB)));
  const partSize = Math.min(Math.max(resumable, fitting), MAX_PART_SIZE);
  const partCount = ceilDiv(size, partSize);
  return { mode: 'multipart', partSize, partCount, lastPartSize: size - (partCount - 1) * partSize };
}

/**
 * How many parts of an upload to send at once: at most `concurrency`, and few enough that the
 * parts go in at least MIN_PART_ROUNDS rounds, so parts land in S3 all along the upload
 * (what a resume after a reload picks up) instead of all at the end. Large files (16 parts
 * and more at the default 4) are not slowed down.
 */
export function partsInFlight(partCount: number, concurrency: number): number {
  const wanted = Math.max(1, Math.floor(concurrency));
  return Math.max(1, Math.min(wanted, ceilDiv(Math.max(1, partCount), MIN_PART_ROUNDS)));
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

/** What a manifest or ticket records of its plan: mode, part size and count (plus the file size). */
export interface RecordedUpload {
  mode: UploadMode;
  partSize: number;
  partCount: number;
}

/** The plan a drop was made with, rebuilt from what its manifest records. */
export function planOf(size: number, upload: RecordedUpload): UploadPlan {
  return {
    mode: upload.mode,
    partSize: upload.partSize,
    partCount: upload.partCount,
    lastPartSize: size - upload.partSize * (upload.partCount - 1),
  };
}

/** Whether a recorded plan cuts a file of `size` bytes: its part count is the one the part size gives. */
export function planFits(size: number, upload: Pick<RecordedUpload, 'partSize' | 'partCount'>): boolean {
  const expected = upload.partSize > 0 ? Math.max(1, ceilDiv(size, upload.partSize)) : 1;
  return upload.partCount === expected;
}

export type ClientPlanRequest = { mode: 'single' } | { mode: 'multipart'; partSize: number };

/**
 * A plan the client chose (Uppy cuts the file by its own rule), held to S3's limits: a
 * single PUT of at most 5 GiB, or parts of 5 MiB..5 GiB (all but the last) and at most 10,000.
 */
export function clientPlan(size: number, want: ClientPlanRequest): UploadPlan {
  if (!Number.isSafeInteger(size) || size < 0) throw new PlanError('SIZE_INVALID', `size must be a non-negative safe integer, got ${size}`);
  if (want.mode === 'single') {
    if (size > MAX_SINGLE_PUT_SIZE) throw new PlanError('SIZE_TOO_LARGE', `a single PUT holds at most ${MAX_SINGLE_PUT_SIZE} bytes`);
    return { mode: 'single', partSize: size, partCount: 1, lastPartSize: size };
  }
  const { partSize } = want;
  if (!Number.isSafeInteger(partSize) || partSize < 1 || partSize > MAX_PART_SIZE) {
    throw new PlanError('SIZE_INVALID', `parts must be ${MIN_PART_SIZE}..${MAX_PART_SIZE} bytes`);
  }
  const partCount = Math.max(1, ceilDiv(size, partSize));
  if (partCount > 1 && partSize < MIN_PART_SIZE) throw new PlanError('SIZE_INVALID', `parts must be ${MIN_PART_SIZE}..${MAX_PART_SIZE} bytes`);
  if (partCount > MAX_PARTS) throw new PlanError('SIZE_TOO_LARGE', `at most ${MAX_PARTS} parts`);
  return { mode: 'multipart', partSize, partCount, lastPartSize: size - partSize * (partCount - 1) };
}

/**
 * The part size Uppy's S3 uploader uses for a file of `size` bytes, given its chunk size
 * (by default ceil(size / 10,000)): at least 5 MiB, and large enough for 10,000 parts.
 */
export function uppyPartSize(size: number, chunkSize = ceilDiv(size, MAX_PARTS)): number {
  const c = Math.max(chunkSize, MIN_PART_SIZE);
  return ceilDiv(size, c) > MAX_PARTS ? ceilDiv(size, MAX_PARTS) : c;
}

/** Part size of the streaming route for a body of unknown length: 16 MiB × 10,000 parts = 156 GiB at most. */
export const CHUNKED_PART_SIZE = 16 * MIB;

/** The streaming route's part size: the plan's for a known length (at least 8 MiB), else CHUNKED_PART_SIZE. */
export function streamPartSize(length: number | undefined): number {
  if (length === undefined) return CHUNKED_PART_SIZE;
  // An empty body plans as a 0-byte single PUT; its "part size" must still be a real one.
  return Math.max(DEFAULT_MIN_PART_SIZE, planUpload(length, { singlePutMax: 0 }).partSize);
}

export interface ClaimedPart {
  partNumber: number;
  etag: string;
}

export type PartCheck =
  /** The parts to complete with, in order. */
  | { ok: true; parts: StoredPartInfo[] }
  | {
      ok: false;
      code: 'PART_MISSING' | 'PART_UNEXPECTED' | 'PART_SIZE_MISMATCH' | 'PART_ETAG_MISMATCH';
      details: Record<string, unknown>;
    };

export interface StoredPartInfo {
  partNumber: number;
  size: number;
  etag: string;
}

const LISTED = 100;
const unquote = (etag: string) => etag.replaceAll('"', '');

/**
 * Whether the parts S3 holds (and, when the client lists them, the parts it claims to have
 * sent) make exactly the planned file: every part there, none outside the plan, each of
 * its planned size, and each claimed ETag the one S3 holds. The first problem found wins,
 * in that order (a duplicate in the claim first of all).
 */
export function checkParts(plan: UploadPlan, stored: StoredPartInfo[], claimed?: ClaimedPart[]): PartCheck {
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  if (claimed && new Set(claimed.map((c) => c.partNumber)).size !== claimed.length) {
    return { ok: false, code: 'PART_UNEXPECTED', details: { reason: 'a part is listed twice' } };
  }
  const claimedNumbers = claimed && new Set(claimed.map((c) => c.partNumber));
  const missing: number[] = [];
  const wrongSize: { partNumber: number; expected: number; actual: number }[] = [];
  for (let n = 1; n <= plan.partCount; n++) {
    const p = byNumber.get(n);
    if (!p || (claimedNumbers && !claimedNumbers.has(n))) missing.push(n);
    else if (p.size !== partSizeOf(plan, n)) wrongSize.push({ partNumber: n, expected: partSizeOf(plan, n), actual: p.size });
  }
  const outside = (n: number) => n < 1 || n > plan.partCount;
  const extra = [...new Set([...stored.map((p) => p.partNumber), ...(claimed ?? []).map((c) => c.partNumber)].filter(outside))];
  if (missing.length) return { ok: false, code: 'PART_MISSING', details: { missing: missing.slice(0, LISTED) } };
  if (extra.length) return { ok: false, code: 'PART_UNEXPECTED', details: { unexpected: extra.slice(0, LISTED) } };
  if (wrongSize.length) return { ok: false, code: 'PART_SIZE_MISMATCH', details: { parts: wrongSize.slice(0, LISTED) } };
  const badEtag = (claimed ?? []).filter((c) => unquote(byNumber.get(c.partNumber)!.etag) !== unquote(c.etag));
  if (badEtag.length) {
    return { ok: false, code: 'PART_ETAG_MISMATCH', details: { parts: badEtag.slice(0, LISTED).map((b) => b.partNumber) } };
  }
  const parts = Array.from({ length: plan.partCount }, (_, i) => byNumber.get(i + 1)!);
  return { ok: true, parts };
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
