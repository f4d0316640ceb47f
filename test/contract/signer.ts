/**
 * The Signer contract: what storage answers to the URLs a signer makes, run against the
 * in-memory signer (test/unit/contract-memory.test.ts) and SigV4 against S3 on the emulator
 * (test/integration/contract-aws.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { GetSignRequest, Signer } from '../../src/ports/signer.js';

export interface SignerHarness {
  signer(): Signer;
  /** Sends the request to storage as a client would; response headers lower-cased. */
  send(method: 'PUT' | 'GET', url: string, body?: Buffer, headers?: Record<string, string>): Promise<{ status: number; body?: Buffer; headers: Record<string, string> }>;
  /** A fresh key of this run. */
  key(): string;
}

export function signerContract(name: string, h: SignerHarness): void {
  describe(`Signer contract: ${name}`, () => {
    it('a create-only PUT needs its signed If-None-Match header (403 without) and never replaces an object (412)', async () => {
      const s = h.signer();
      const key = h.key();
      const body = randomBytes(100);
      const signed = await s.signPut({ key, contentLength: body.length, expiresIn: 60, createOnly: true }, new Date());
      expect(signed.headers).toEqual({ 'if-none-match': '*' });
      expect((await h.send('PUT', signed.url, body)).status).toBe(403);
      expect((await h.send('PUT', signed.url, body, signed.headers)).status).toBe(200);
      expect((await h.send('PUT', signed.url, randomBytes(100), signed.headers)).status).toBe(412);
      const get = await s.signGet(pinned(key), new Date());
      expect(Buffer.compare((await h.send('GET', get.url)).body!, body)).toBe(0);
    });

    it('a part or a plain PUT has no headers to send', async () => {
      const s = h.signer();
      const signed = await s.signPut({ key: h.key(), contentLength: 1, expiresIn: 60 }, new Date());
      expect(signed.headers).toEqual({});
      expect((await h.send('PUT', signed.url, Buffer.from('x'))).status).toBe(200);
    });

    it('a GET answers with the response headers it signed, whatever the PUT carried', async () => {
      const s = h.signer();
      const key = h.key();
      const put = await s.signPut({ key, contentLength: 3, expiresIn: 60 }, new Date());
      const sent = { 'content-encoding': 'gzip', 'cache-control': 'public, max-age=31536000', expires: 'Fri, 01 Jan 2100 00:00:00 GMT', 'content-language': 'fr' };
      expect((await h.send('PUT', put.url, Buffer.from('abc'), sent)).status).toBe(200);
      const r = await h.send('GET', (await s.signGet(pinned(key), new Date())).url);
      expect(r.status).toBe(200);
      expect(r.body?.toString()).toBe('abc');
      expect(r.headers).toMatchObject({
        'content-type': 'text/plain',
        'content-disposition': 'attachment; filename="a.txt"',
        'content-encoding': 'identity',
        'cache-control': 'private, no-store',
        expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
        'content-language': 'und',
      });
    });
  });
}

const pinned = (key: string): GetSignRequest => ({
  key,
  expiresIn: 60,
  responseContentType: 'text/plain',
  responseContentDisposition: 'attachment; filename="a.txt"',
  responseContentEncoding: 'identity',
  responseCacheControl: 'private, no-store',
  responseExpires: new Date(0),
  responseContentLanguage: 'und',
});
