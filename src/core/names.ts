// File names and content types supplied by uploaders.
//
// A drop's name is only ever shown (share page, API) and sent back in Content-Disposition;
// it never becomes part of an S3 key or a path. So instead of rewriting odd names we reject
// the ones that could mislead a reader or a downloader (control characters, path parts,
// direction overrides) and keep everything else exactly as the user typed it.

const MAX_NAME_BYTES = 255;
const OCTET_STREAM = 'application/octet-stream';

export type NameRejection =
  | 'EMPTY'
  | 'TOO_LONG'
  | 'CONTROL_CHAR'
  | 'INVALID_UNICODE'
  | 'PATH_SEPARATOR'
  | 'DOT_NAME';

export type SanitizedName = { ok: true; name: string } | { ok: false; reason: NameRejection };

// C0, DEL and C1 controls; U+2028/U+2029 break lines wherever the name is displayed or
// logged; bidi embeddings/overrides/isolates let "invoice\u202Efdp.exe" pose as a PDF.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const FORBIDDEN_CHARS = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATE_GLOBAL = new RegExp(LONE_SURROGATE.source, 'g');
const utf8 = new TextEncoder();

export function sanitizeName(raw: string): SanitizedName {
  if (typeof raw !== 'string') return { ok: false, reason: 'EMPTY' };
  // Lone surrogates cannot be encoded as UTF-8 (they would silently become U+FFFD).
  if (LONE_SURROGATE.test(raw)) return { ok: false, reason: 'INVALID_UNICODE' };
  // NFC so that the same name typed on macOS (NFD) and elsewhere compares and displays alike.
  const name = raw.normalize('NFC').trim();
  if (name.length === 0) return { ok: false, reason: 'EMPTY' };
  if (FORBIDDEN_CHARS.test(name)) return { ok: false, reason: 'CONTROL_CHAR' };
  if (name.includes('/') || name.includes('\\')) return { ok: false, reason: 'PATH_SEPARATOR' };
  if (name === '.' || name === '..') return { ok: false, reason: 'DOT_NAME' };
  // 255 bytes is the common file-system limit, so the name can be saved as it is.
  if (utf8.encode(name).length > MAX_NAME_BYTES) return { ok: false, reason: 'TOO_LONG' };
  return { ok: true, name };
}

/**
 * A Content-Disposition header value (RFC 6266) carrying the name twice: `filename*` is the
 * exact UTF-8 name (RFC 5987/8187) that current browsers use; `filename` is an ASCII fallback
 * for old clients, with anything that could be misread inside a quoted string replaced.
 * The result is always printable ASCII, so it cannot split or inject headers.
 */
export function contentDisposition(
  name: string,
  disposition: 'attachment' | 'inline' = 'attachment',
): string {
  const wellFormed = name.replace(LONE_SURROGATE_GLOBAL, '\uFFFD');
  return `${disposition}; filename="${asciiFallback(wellFormed)}"; filename*=UTF-8''${encodeRfc5987(wellFormed)}`;
}

/** Types a browser would run script in if it ever rendered them from the storage origin. */
const ACTIVE_TYPES = new Set(['image/svg+xml', 'text/html', 'application/xhtml+xml', 'text/xml', 'application/xml', 'text/javascript', 'application/javascript']);

/**
 * The Content-Type a download is served with: the sniffed type, except for active types
 * (SVG, HTML, XHTML, XML, JavaScript), which go out as application/octet-stream — the download
 * is an attachment anyway, and no browser renders script from the bucket's origin even if the
 * disposition were ignored.
 */
export function downloadContentType(sniffed: string | undefined): string {
  if (!sniffed || ACTIVE_TYPES.has(sniffed.toLowerCase())) return OCTET_STREAM;
  return sniffed;
}

/**
 * The declared media type when it is a syntactically valid `type/subtype` (RFC 6838 names),
 * lower-cased and without parameters; otherwise application/octet-stream. Only a label:
 * the worker sniffs the real type from the bytes.
 */
export function safeMimeType(declared: string | undefined): string {
  if (typeof declared !== 'string') return OCTET_STREAM;
  // split() always returns at least one string, so [0] is never undefined.
  const essence = declared.split(';', 1)[0]!.trim().toLowerCase();
  if (essence.length > 127 || !MEDIA_TYPE.test(essence)) return OCTET_STREAM;
  return essence;
}

// RFC 6838 restricted-name: a subset of token chars that excludes wildcards like "*/*".
const RESTRICTED_NAME = "[a-z0-9][a-z0-9!#$&^_.+-]{0,126}";
const MEDIA_TYPE = new RegExp(`^${RESTRICTED_NAME}/${RESTRICTED_NAME}$`);

// Stryker disable next-line Regex: either anchor alone is equivalent, as `ch` is a single code point (an astral one is two surrogates, neither printable)
const PRINTABLE_ASCII = /^[\x20-\x7E]$/;

function asciiFallback(name: string): string {
  let out = '';
  for (const ch of name) {
    // One "_" per code point (not per UTF-16 unit), so "ü.jpg" becomes "_.jpg".
    out += PRINTABLE_ASCII.test(ch) && !/["\\%;]/.test(ch) ? ch : '_';
  }
  return out;
}

// encodeURIComponent leaves ! ' ( ) * ~ and alphanumerics alone; RFC 5987 attr-char does
// not allow ' ( ) *, so they are encoded too ("!" and "~" are attr-chars and may stay).
function encodeRfc5987(s: string): string {
  return encodeURIComponent(s).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
