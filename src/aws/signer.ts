/**
 * The Signer port (src/ports/signer.ts): presigned URLs for parts, single PUTs and GETs, and
 * POST policies.
 *
 * Why not `getSignedUrl`: it runs the whole command middleware stack for every URL (~3,700
 * URLs/s/core). The SDK's own S3 presigner, built once and fed a ready HttpRequest, signs the
 * same SigV4 query string about ten times faster, which matters when a 10,000-part upload
 * asks for its URLs in batches. Every PUT URL signs `content-length`, so S3 itself refuses
 * a body of any other size: the size the client declared is enforced by S3, not by us.
 *
 * Hashing uses Node's native crypto (@smithy/hash-node, what the SDK's Node clients use) rather
 * than the pure-JavaScript SHA-256 the presigner defaults to: the same signatures, about 1.5×
 * the URLs per CPU-second in a side-by-side run (20,000 part URLs per variant, three rounds).
 */
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/protocol-http';
import { Hash } from '@smithy/hash-node';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { AwsCredentialIdentity, Provider } from '@aws-sdk/types';
import type { S3Client } from '@aws-sdk/client-s3';
import { hostOf, s3Address } from '../core/s3-address.js';
import { responseOverrides, type SignedUrl, type Signer } from '../ports/signer.js';

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
  const presigner = new S3RequestPresigner({
    credentials: opts.credentials,
    region: opts.region,
    sha256: Hash.bind(null, 'sha256'),
  });
  const host = hostOf(t);

  async function sign(
    method: 'PUT' | 'GET',
    key: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    expiresIn: number,
    now: Date,
  ): Promise<SignedUrl> {
    const req = new HttpRequest({
      method,
      protocol: t.protocol,
      hostname: t.hostname,
      ...(t.port ? { port: t.port } : {}),
      path: `${t.pathPrefix}/${encodeKey(key)}`,
      query,
      headers: { host, ...headers },
    });
    const signed = await presigner.presign(req, {
      expiresIn,
      signingDate: now,
      // content-length and if-none-match stay signed headers, never hoisted into the query.
      unhoistableHeaders: new Set(['content-length', 'if-none-match']),
    });
    const qs = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    // What the client must send itself: the signed headers other than host and
    // content-length (which every HTTP client sets from the body).
    const toSend = Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'content-length'));
    return {
      url: `${t.protocol}//${host}${signed.path}?${qs}`,
      expiresAt: new Date(now.getTime() + expiresIn * 1000),
      headers: toSend,
    };
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
