// The worker's decisions that need no I/O: what a manifest's status means for a new event,
// whether the stored object is the one the manifest announced, which sniffed types get
// thumbnails, whether an SVG may be rasterised and at what density, whether the sniffed type
// is one the creating key may upload, how a message's outcomes combine, how long a failed
// message waits.
// src/worker/handler.ts does the I/O around them; test/unit/worker-decisions.test.ts covers them.

import type { DropStatus, Manifest } from './manifest.js';
import { essence, typeAllowed } from './policy.js';

/** What the worker learnt of the stored object (a HEAD). */
export interface StoredObject {
  size: number;
  etag: string;
}

/**
 * What the consumer does with a message: `done` and `skipped` delete it, `retry` leaves it
 * for redelivery (and, after the queue's maxReceiveCount, the DLQ).
 */
export type Outcome = { outcome: 'done' | 'skipped' | 'retry'; reason: string };

export const done = (reason: string): Outcome => ({ outcome: 'done', reason });
export const skipped = (reason: string): Outcome => ({ outcome: 'skipped', reason });
export const retry = (reason: string): Outcome => ({ outcome: 'retry', reason });

/**
 * uploading/processing: the object is there, verify and process it (the S3 event may beat
 * the api's `complete`, hence uploading too). ready/failed: a duplicate event, or bytes that
 * must not be there — `checkPublished` decides. cancelled/expired: the bytes must not stay;
 * remove them.
 */
export function planForStatus(status: DropStatus): 'process' | 'check' | 'remove' {
  switch (status) {
    case 'uploading':
    case 'processing':
      return 'process';
    case 'ready':
    case 'failed':
      return 'check';
    case 'cancelled':
    case 'expired':
      return 'remove';
  }
}

const unquote = (etag: string) => etag.replace(/^(W\/)?"|"$/g, '');

/**
 * An event for a drop the worker already settled. ready: the object it verified (same size
 * and, when recorded, same ETag) is a duplicate event — skip; anything else is bytes nobody
 * verified — `replaced` (fail the drop, then delete them). failed: a failed drop keeps no
 * bytes, so whatever is there is removed. Nothing stored: skip.
 */
export function checkPublished(
  m: Pick<Manifest, 'status' | 'size' | 'etag'>,
  head: StoredObject | undefined,
): { action: 'skip'; reason: string } | { action: 'replaced'; reason: string } | { action: 'remove'; reason: string } {
  if (!head) return { action: 'skip', reason: `drop is already ${m.status}` };
  if (m.status === 'failed') return { action: 'remove', reason: 'drop is failed: the object stored since was removed' };
  if (head.size !== m.size) {
    return { action: 'replaced', reason: `object replaced after verification: ${m.size} bytes verified, ${head.size} stored` };
  }
  if (m.etag !== undefined && unquote(head.etag) !== unquote(m.etag)) {
    return { action: 'replaced', reason: 'object replaced after verification: its ETag is not the one verified' };
  }
  return { action: 'skip', reason: `drop is already ${m.status}` };
}

/**
 * The type the worker sniffed from the bytes against the allowed types recorded in the
 * manifest. The sniffer tells binary formats apart but calls every text file `text/plain`,
 * so a `text/plain` sniff passes when the declared type is an allowed `text/*` type.
 */
export function checkSniffedType(
  m: { allowedTypes?: string[]; type: string },
  sniffedType: string,
): { ok: true } | { ok: false; reason: string } {
  const allowed = m.allowedTypes;
  if (allowed === undefined || typeAllowed(sniffedType, allowed)) return { ok: true };
  const declared = essence(m.type);
  if (essence(sniffedType) === 'text/plain' && declared.startsWith('text/') && typeAllowed(declared, allowed)) return { ok: true };
  return { ok: false, reason: `type not allowed: the bytes are ${sniffedType}; this key may upload only ${allowed.join(', ')}` };
}

export function verifyObject(m: Manifest, head: StoredObject | undefined): { ok: true } | { ok: false; reason: string } {
  if (!head) return { ok: false, reason: 'object missing' };
  if (head.size !== m.size) return { ok: false, reason: `size mismatch: announced ${m.size} bytes, stored ${head.size}` };
  return { ok: true };
}

/** Types sharp decodes reliably from its prebuilt libvips; HEIC is left out on purpose. */
export const THUMBNAILABLE_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/tiff',
]);

export const SVG_TYPE = 'image/svg+xml';
export const SVG_NAMESPACE = 'http://www.w3.org/2000/svg';
/**
 * An SVG is a program for librsvg, not a bitmap: its cost is its content, not its bytes. The
 * bytes are parsed twice (the check, then librsvg), so they are capped well below
 * DROPSHIP_MAX_IMAGE_BYTES; the element count and nesting depth bound the parse and the render
 * (librsvg's own XML parser stops at a depth of 256).
 */
export const SVG_MAX_BYTES = 4 * 1024 ** 2;
export const SVG_MAX_ELEMENTS = 50_000;
export const SVG_MAX_DEPTH = 128;
/** The render runs in a child process that is killed after this long (librsvg cannot be interrupted). */
export const SVG_RENDER_TIMEOUT_MS = 20_000;

export type ThumbnailPlan = { kind: 'decode' } | { kind: 'svg' } | { kind: 'none' } | { kind: 'refuse'; reason: string };

export function thumbnailPlan(sniffedType: string, size: number, maxImageBytes: number): ThumbnailPlan {
  if (sniffedType === SVG_TYPE) {
    const limit = Math.min(maxImageBytes, SVG_MAX_BYTES);
    if (size > limit) return { kind: 'refuse', reason: `SVG is ${size} bytes, over the ${limit}-byte limit` };
    return { kind: 'svg' };
  }
  if (!THUMBNAILABLE_TYPES.has(sniffedType)) return { kind: 'none' };
  if (size > maxImageBytes) {
    return { kind: 'refuse', reason: `image is ${size} bytes, over the ${maxImageBytes}-byte decode limit` };
  }
  return { kind: 'decode' };
}

/**
 * What a strict XML parser found in an SVG (src/worker/svg.ts reads it; nothing here parses).
 * `references` are the values of every href / xlink:href / src attribute and every `url(…)`
 * in attribute values and style sheets; `imports` counts CSS `@import` rules.
 */
export interface SvgFacts {
  /** Why the XML is not well-formed; undefined when it is. */
  error?: string;
  root?: { name: string; ns: string };
  doctype: boolean;
  /** Processing instructions other than the XML declaration (`<?xml-stylesheet …?>`). */
  instructions: string[];
  /** Namespaces of elements outside SVG's own that librsvg acts on (XInclude). */
  xinclude: boolean;
  references: string[];
  imports: number;
  /** A backslash in CSS: an escape can spell `url` or `@import` past any check. */
  cssEscapes: boolean;
  elements: number;
  depth: number;
}

/** A reference inside the document itself: `#id`, or `url(#id)`'s argument. */
export function isLocalReference(ref: string): boolean {
  return /^\s*#[^\s]*\s*$/.test(ref) || ref.trim() === '';
}

const shown = (ref: string) => (ref.length > 80 ? `${ref.slice(0, 77)}...` : ref);

/**
 * Whether an SVG may be rasterised. Only a self-contained document is: anything that could
 * make the renderer read a file, open a connection or expand entities is refused, whatever
 * librsvg would do with it (its behaviour is a version's, this check is ours). A refusal is
 * `thumbnail: failed` with this reason; the file itself is still served (as an attachment).
 */
export function svgVerdict(f: SvgFacts): { ok: true } | { ok: false; reason: string } {
  const no = (why: string) => ({ ok: false as const, reason: `SVG refused: ${why}` });
  // First: a DOCTYPE's entities also make the XML malformed to a parser that expands none.
  if (f.doctype) return no('it has a DOCTYPE (entities and external DTDs are not accepted)');
  if (f.error !== undefined) return no(`not well-formed XML (${f.error.slice(0, 120)})`);
  if (!f.root || f.root.name !== 'svg' || f.root.ns !== SVG_NAMESPACE) return no('the root element is not <svg> in the SVG namespace');
  if (f.instructions.length) return no(`it has a processing instruction (<?${shown(f.instructions[0]!)}?>)`);
  if (f.xinclude) return no('it uses XInclude');
  const external = f.references.find((r) => !isLocalReference(r));
  if (external !== undefined) return no(`it references something outside itself (${shown(external)})`);
  if (f.imports > 0) return no('its style sheet has an @import');
  if (f.cssEscapes) return no('its CSS has escapes');
  if (f.elements > SVG_MAX_ELEMENTS) return no(`it has ${f.elements} elements, over the ${SVG_MAX_ELEMENTS}-element limit`);
  if (f.depth > SVG_MAX_DEPTH) return no(`its elements nest ${f.depth} deep, over the limit of ${SVG_MAX_DEPTH}`);
  return { ok: true };
}

/** librsvg renders at 72 dpi by default; sharp takes the density in dpi (1 to 100000). */
const BASE_DENSITY = 72;
const MIN_DENSITY = 1;
const MAX_DENSITY = 100_000;

/**
 * The density to render an SVG of the declared size at: it fills the largest thumbnail box
 * (width × 4·width) — a vector image is drawn at the size wanted rather than drawn large and
 * shrunk, or drawn small and enlarged. Refused when even the lowest density gives a raster
 * over `maxPixels` (width="100000000"), or no size at all.
 */
export function svgRenderDensity(
  declared: { width: number; height: number },
  maxWidth: number,
  maxPixels: number,
  maxAspect = 4,
): { ok: true; density: number; width: number; height: number } | { ok: false; reason: string } {
  const { width, height } = declared;
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    return { ok: false, reason: 'SVG refused: it declares no size' };
  }
  const scale = Math.min(maxWidth / width, (maxWidth * maxAspect) / height);
  const density = Math.min(MAX_DENSITY, Math.max(MIN_DENSITY, BASE_DENSITY * scale));
  const out = { width: Math.max(1, Math.round((width * density) / BASE_DENSITY)), height: Math.max(1, Math.round((height * density) / BASE_DENSITY)) };
  if (out.width * out.height > maxPixels) {
    return { ok: false, reason: `SVG is ${width}x${height}, over the ${maxPixels}-pixel limit even drawn at ${MIN_DENSITY} dpi` };
  }
  return { ok: true, density, ...out };
}

/**
 * The type to record: file-type's answer when it has one (it only knows binary formats);
 * otherwise text/plain for UTF-8 without control bytes, else application/octet-stream.
 * `head` is the first bytes of the object; `complete` says whether it is the whole object
 * (if not, a multi-byte character may be cut at its end, which is no reason to call it binary).
 */
export function sniffedTypeOf(
  detected: string | undefined,
  head: Uint8Array,
  complete: boolean,
  xmlRoot?: { name: string; ns: string },
): string {
  // file-type knows no SVG (text) and calls XML with a declaration application/xml: the root
  // element, read by a parser from the head, tells an SVG document apart.
  const xml = detected === undefined || detected === 'application/xml';
  if (xml && xmlRoot?.name === 'svg' && xmlRoot.ns === SVG_NAMESPACE && (detected || looksLikeText(head, complete))) return SVG_TYPE;
  if (detected) return detected;
  return looksLikeText(head, complete) ? 'text/plain' : 'application/octet-stream';
}

export function looksLikeText(bytes: Uint8Array, complete: boolean): boolean {
  if (bytes.length === 0) return false;
  for (const b of bytes) {
    // Tab, LF, FF, CR and ESC occur in real text; other C0 controls and NUL mean binary.
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1b) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/** A message with several records: any retry retries it all (every step is idempotent). */
export function combineOutcomes(outcomes: Outcome[]): Outcome {
  const pick = (o: Outcome['outcome']) => outcomes.filter((x) => x.outcome === o);
  for (const kind of ['retry', 'done', 'skipped'] as const) {
    const found = pick(kind);
    if (found.length) return { outcome: kind, reason: found.map((x) => x.reason).join('; ') };
  }
  return skipped('no records');
}

export const MAX_RETRY_DELAY_SECONDS = 900;

/**
 * Exponential backoff by delivery: base, 2×base, 4×base ... after the 1st, 2nd, 3rd receive,
 * capped at 15 minutes. A transient S3 outage gets room to pass before the queue's
 * maxReceiveCount sends the message to the DLQ.
 */
export function retryDelaySeconds(receiveCount: number, baseSeconds: number): number {
  const n = Number.isSafeInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1;
  return Math.min(MAX_RETRY_DELAY_SECONDS, baseSeconds * 2 ** Math.min(n - 1, 20));
}
