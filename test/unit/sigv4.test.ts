/**
 * src/aws/sigv4.ts makes exactly the URL the SDK's S3RequestPresigner makes for the same
 * request, over generated requests: part PUTs, create-only PUTs, GETs with response
 * overrides in any script, session tokens, regions, endpoints and dates. (S3 accepting the
 * URLs and refusing tampered ones is the signer contract suite's, on the emulator.)
 */
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPresigner, MAX_PRESIGN_SECONDS, type PresignInput, type SigningCredentials } from '../../src/aws/sigv4.js';

/** The SDK's presigner, used the way the signer used it before it had its own. */
async function reference(input: PresignInput): Promise<string> {
  const presigner = new S3RequestPresigner({ credentials: input.credentials, region: input.region, sha256: Hash.bind(null, 'sha256') });
  const u = new URL(input.origin);
  const signed = await presigner.presign(
    new HttpRequest({
      method: input.method,
      protocol: u.protocol,
      hostname: u.hostname,
      ...(u.port ? { port: Number(u.port) } : {}),
      path: input.path,
      query: { ...input.query },
      headers: { ...input.headers },
    }),
    { expiresIn: input.expiresIn, signingDate: input.now, unhoistableHeaders: new Set(['content-length', 'if-none-match']) },
  );
  const qs = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${input.origin}${signed.path}?${qs}`;
}

const segment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
const anyText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
const origins = fc.constantFrom(
  { origin: 'http://127.0.0.1:4566', host: '127.0.0.1:4566', prefix: '/dropship' },
  { origin: 'https://dropship.s3.eu-west-1.amazonaws.com', host: 'dropship.s3.eu-west-1.amazonaws.com', prefix: '' },
  { origin: 'http://localhost:9000', host: 'localhost:9000', prefix: '/b.with.dots' },
);
const credentials: fc.Arbitrary<SigningCredentials> = fc.record(
  {
    accessKeyId: fc.stringMatching(/^[A-Z0-9]{16,20}$/),
    secretAccessKey: fc.stringMatching(/^[A-Za-z0-9/+]{40}$/),
    sessionToken: fc.stringMatching(/^[A-Za-z0-9/+=]{20,80}$/),
  },
  { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
);
const now = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2040-12-31T23:59:59Z'), noInvalidDate: true });
const part = fc.record({ partNumber: fc.integer({ min: 1, max: 10_000 }), uploadId: fc.stringMatching(/^[A-Za-z0-9._+/=-]{8,96}$/) });

const request: fc.Arbitrary<PresignInput> = fc
  .record({
    where: origins,
    segments: fc.array(fc.oneof(segment, anyText), { minLength: 1, maxLength: 4 }),
    kind: fc.oneof(
      fc.record({ method: fc.constant('PUT' as const), part, size: fc.integer({ min: 0, max: 5 * 1024 ** 3 }) }),
      fc.record({ method: fc.constant('PUT' as const), createOnly: fc.constant(true), size: fc.integer({ min: 0, max: 100 * 1024 ** 2 }) }),
      fc.record({
        method: fc.constant('GET' as const),
        overrides: fc.record({
          'response-content-disposition': anyText.map((name) => `attachment; filename*=UTF-8''${encodeURIComponent(name)}`),
          'response-content-type': fc.constantFrom('application/octet-stream', 'image/webp', 'text/plain; charset=utf-8'),
          'response-cache-control': fc.constantFrom('private, max-age=300', 'no-store'),
          'response-expires': now.map((d) => d.toUTCString()),
        }),
      }),
    ),
    expiresIn: fc.integer({ min: 1, max: MAX_PRESIGN_SECONDS }),
    now,
    credentials,
    region: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2'),
  })
  .map(({ where, segments, kind, expiresIn, now, credentials, region }): PresignInput => {
    const path = `${where.prefix}/${segments.map(encodeURIComponent).join('/')}`;
    const headers: Record<string, string> = { host: where.host };
    let query: Record<string, string> = {};
    if ('part' in kind) query = { partNumber: String(kind.part.partNumber), uploadId: kind.part.uploadId };
    if ('size' in kind) headers['content-length'] = String(kind.size);
    if ('createOnly' in kind) headers['if-none-match'] = '*';
    if ('overrides' in kind) query = kind.overrides;
    return { method: kind.method, origin: where.origin, path, query, headers, expiresIn, now, credentials, region };
  });

describe('SigV4 presigning', () => {
  it('makes the URL the SDK presigner makes, for any request dropship signs', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const { region, ...rest } = input;
        expect(createPresigner(region)(rest)).toBe(await reference(input));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps making the same URLs across a change of day and of credentials (the cached signing key follows them)', async () => {
    const presign = createPresigner('us-east-1');
    const base = {
      method: 'PUT' as const,
      origin: 'http://127.0.0.1:4566',
      path: '/dropship/drops/abc/original',
      query: { partNumber: '1', uploadId: 'u' },
      headers: { host: '127.0.0.1:4566', 'content-length': '5' },
      expiresIn: 900,
    };
    const a = { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'a'.repeat(40) };
    const b = { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'b'.repeat(40), sessionToken: 'token' };
    for (const [credentials, now] of [
      [a, new Date('2026-12-01T23:59:59Z')],
      [a, new Date('2026-12-02T00:00:00Z')],
      [b, new Date('2026-12-02T00:00:01Z')],
      [a, new Date('2026-12-02T00:00:02Z')],
    ] as const) {
      expect(presign({ ...base, credentials, now })).toBe(await reference({ ...base, credentials, now, region: 'us-east-1' }));
    }
  });

  it('refuses a lifetime over seven days, as S3 would', () => {
    const presign = createPresigner('us-east-1');
    expect(() =>
      presign({
        method: 'GET',
        origin: 'http://127.0.0.1:4566',
        path: '/b/k',
        query: {},
        headers: { host: '127.0.0.1:4566' },
        expiresIn: MAX_PRESIGN_SECONDS + 1,
        now: new Date(),
        credentials: { accessKeyId: 'A', secretAccessKey: 'S' },
      }),
    ).toThrow(/7 days/);
  });
});
