/**
 * The Signer port (src/ports/signer.ts): presigned URLs for parts, single PUTs and GETs, and
 * POST policies.
 *
 * Query-string URLs come from ./sigv4.ts, which makes the URL the SDK's S3RequestPresigner
 * makes (held to it by a property test) at about twice the URLs per CPU-second; `getSignedUrl`
 * would be slower still, running the whole command middleware stack for every URL. That
 * matters when a 10,000-part upload asks for its URLs in batches. Every PUT URL signs
 * `content-length`, so S3 itself refuses a body of any other size: the size the client
 * declared is enforced by S3, not by us. POST policies come from @aws-sdk/s3-presigned-post.
 */
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { AwsCredentialIdentity, Provider } from '@aws-sdk/types';
import type { S3Client } from '@aws-sdk/client-s3';
import { hostOf, s3Address } from '../core/s3-address.js';
import { responseOverrides, type SignedUrl, type Signer } from '../ports/signer.js';
import { createPresigner } from './sigv4.js';

/** S3 keys are encoded segment by segment; our keys are server-made and URL-safe anyway. */
const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

export function createSigner(opts: {
  bucket: string;
  region: string;
  endpoint?: string;
  pathStyle: boolean;
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  /** For POST policies (createPresignedPost builds them from the client's configuration). */
  s3: S3Client;
}): Signer {
  const t = s3Address({ bucket: opts.bucket, region: opts.region, endpoint: opts.endpoint, pathStyle: opts.pathStyle });
  const presign = createPresigner(opts.region);
  const credentials = opts.credentials;
  const host = hostOf(t);
  const origin = `${t.protocol}//${host}`;

  async function sign(
    method: 'PUT' | 'GET',
    key: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    expiresIn: number,
    now: Date,
  ): Promise<SignedUrl> {
    const url = presign({
      method,
      origin,
      path: `${t.pathPrefix}/${encodeKey(key)}`,
      query,
      // content-length and if-none-match are signed headers, never hoisted into the query.
      headers: { host, ...headers },
      expiresIn,
      now,
      credentials: typeof credentials === 'function' ? await credentials() : credentials,
    });
    // What the client must send itself: the signed headers other than host and
    // content-length (which every HTTP client sets from the body).
    const toSend = Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'content-length'));
    return { url, expiresAt: new Date(now.getTime() + expiresIn * 1000), headers: toSend };
  }

  return {
    signPut(req, now) {
      const query: Record<string, string> = req.part
        ? { partNumber: String(req.part.partNumber), uploadId: req.part.uploadId }
        : {};
      const headers: Record<string, string> = { 'content-length': String(req.contentLength) };
      if (req.createOnly && !req.part) headers['if-none-match'] = '*';
      return sign('PUT', req.key, query, headers, req.expiresIn, now);
    },
    signGet(req, now) {
      return sign('GET', req.key, responseOverrides(req), {}, req.expiresIn, now);
    },
    async signPost(req) {
      // S3 checks the policy: this key, exactly `size` bytes.
      const post = await createPresignedPost(opts.s3, {
        Bucket: opts.bucket,
        Key: req.key,
        Conditions: [['content-length-range', req.size, req.size]],
        Expires: req.expiresIn,
      });
      return { url: post.url, fields: post.fields };
    },
  };
}

/** The credentials the S3 client resolved, so the signer signs as the client would. */
export function credentialsOf(s3: S3Client): Provider<AwsCredentialIdentity> {
  return () => s3.config.credentials();
}
