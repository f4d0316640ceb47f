/**
 * SigV4 query-string presigning for S3 (AWS4-HMAC-SHA256, unsigned payload): the URL the
 * SDK's `S3RequestPresigner` makes, character for character, at about twice the URLs per
 * CPU-second.
 *
 * Why not the SDK's presigner: part signing is the hot path (a 10,000-part upload asks for its
 * URLs in batches of 100), and per URL the SDK clones the request three times, walks its
 * header and query maps through generic middleware, and spends an HMAC just to find the
 * cached signing key. Here a URL is one SHA-256 of the canonical request and one HMAC with
 * the signing key, derived once per day, region and secret. `test/unit/sigv4.test.ts` holds
 * this module to the SDK's output over generated requests (keys, part numbers, sizes,
 * response overrides, session tokens, dates), and the signer contract suite has S3 on the
 * emulator accept its URLs and refuse tampered ones.
 *
 * Only what dropship signs: path-style or virtual-hosted S3 URLs whose path is already
 * URI-encoded, string query parameters and headers, no SigV4a, no signed payload.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface PresignInput {
  method: 'GET' | 'PUT';
  /** `protocol//host` without a trailing slash. */
  origin: string;
  /** The request path, already URI-encoded (S3 does not encode it again). */
  path: string;
  /** Query parameters of the request itself (partNumber, uploadId, response-…), in URL order. */
  query: Record<string, string>;
  /** Signed headers, lower-case names, including `host`. */
  headers: Record<string, string>;
  expiresIn: number;
  now: Date;
  credentials: SigningCredentials;
  region: string;
}

/** The longest a SigV4 presigned URL may live. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

const HEX = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
/** RFC 3986 encoding, as SigV4's canonical form wants it. */
const escapeUri = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, HEX);
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const headerValue = (v: string) => v.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');

/** A presigner for one region, holding the signing key it derived last. */
export function createPresigner(region: string) {
  let cached: { secret: string; shortDate: string; key: Buffer } | undefined;

  function signingKey(secret: string, shortDate: string): Buffer {
    if (cached?.secret === secret && cached.shortDate === shortDate) return cached.key;
    let key = createHmac('sha256', `AWS4${secret}`).update(shortDate).digest();
    for (const part of [region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    cached = { secret, shortDate, key };
    return key;
  }

  return function presign(input: Omit<PresignInput, 'region'>): string {
    if (input.expiresIn > MAX_PRESIGN_SECONDS) throw new RangeError('a SigV4 presigned URL lives at most 7 days');
    const { credentials: c } = input;
    const longDate = input.now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
    const shortDate = longDate.slice(0, 8);
    const scope = `${shortDate}/${region}/s3/aws4_request`;
    const names = Object.keys(input.headers).sort(byCodeUnit);
    const signedHeaders = names.join(';');
    // The order the SDK writes them: the request's own, then the signature's.
    const query: Record<string, string> = { ...input.query, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' };
    if (c.sessionToken) query['X-Amz-Security-Token'] = c.sessionToken;
    query['X-Amz-Algorithm'] = 'AWS4-HMAC-SHA256';
    query['X-Amz-Credential'] = `${c.accessKeyId}/${scope}`;
    query['X-Amz-Date'] = longDate;
    query['X-Amz-Expires'] = String(input.expiresIn);
    query['X-Amz-SignedHeaders'] = signedHeaders;
    const canonicalQuery = Object.keys(query)
      .map((k) => [escapeUri(k), escapeUri(query[k]!)] as const)
      .sort((a, b) => byCodeUnit(a[0], b[0]))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const canonicalHeaders = names.map((n) => `${n}:${headerValue(input.headers[n]!)}\n`).join('');
    const canonicalRequest = `${input.method}\n${input.path}\n${canonicalQuery}\n${canonicalHeaders}\n${signedHeaders}\nUNSIGNED-PAYLOAD`;
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
    query['X-Amz-Signature'] = createHmac('sha256', signingKey(c.secretAccessKey, shortDate)).update(stringToSign).digest('hex');
    let qs = '';
    for (const k in query) qs += `${qs ? '&' : ''}${encodeURIComponent(k)}=${encodeURIComponent(query[k]!)}`;
    return `${input.origin}${input.path}?${qs}`;
  };
}
