/** Where presigned URLs point (src/core/s3-address.ts): the signer and the pages' CSP share this rule. */
import { describe, expect, it } from 'vitest';
import { hostOf, s3Address, s3Origin } from '../../src/core/s3-address.js';

describe('s3Address', () => {
  it.each([
    [{ endpoint: 'http://127.0.0.1:4566', pathStyle: true }, { protocol: 'http:', hostname: '127.0.0.1', port: 4566, pathPrefix: '/drops' }, 'http://127.0.0.1:4566'],
    [{ endpoint: 'http://localhost:4566/', pathStyle: false }, { protocol: 'http:', hostname: 'drops.localhost', port: 4566, pathPrefix: '' }, 'http://drops.localhost:4566'],
    [{ endpoint: 'https://minio.example/s3/', pathStyle: true }, { protocol: 'https:', hostname: 'minio.example', pathPrefix: '/s3/drops' }, 'https://minio.example'],
    [{ endpoint: 'https://minio.example/s3', pathStyle: false }, { protocol: 'https:', hostname: 'drops.minio.example', pathPrefix: '/s3' }, 'https://drops.minio.example'],
    [{ pathStyle: false }, { protocol: 'https:', hostname: 'drops.s3.eu-west-1.amazonaws.com', pathPrefix: '' }, 'https://drops.s3.eu-west-1.amazonaws.com'],
    [{ pathStyle: true }, { protocol: 'https:', hostname: 's3.eu-west-1.amazonaws.com', pathPrefix: '/drops' }, 'https://s3.eu-west-1.amazonaws.com'],
    [{ endpoint: '', pathStyle: false }, { protocol: 'https:', hostname: 'drops.s3.eu-west-1.amazonaws.com', pathPrefix: '' }, 'https://drops.s3.eu-west-1.amazonaws.com'],
  ])('%o → %o', (loc, address, origin) => {
    const full = { bucket: 'drops', region: 'eu-west-1', ...loc };
    expect(s3Address(full)).toEqual(address);
    expect(s3Origin(full)).toBe(origin);
  });

  it('us-east-1 has no region in its host', () => {
    expect(s3Origin({ bucket: 'b', region: 'us-east-1', pathStyle: false })).toBe('https://b.s3.amazonaws.com');
    expect(s3Origin({ bucket: 'b', region: 'us-east-1', pathStyle: true })).toBe('https://s3.amazonaws.com');
  });

  it('the Host header carries the port only when there is one', () => {
    expect(hostOf({ protocol: 'http:', hostname: 'h', port: 9000, pathPrefix: '' })).toBe('h:9000');
    expect(hostOf({ protocol: 'https:', hostname: 'h', pathPrefix: '' })).toBe('h');
  });
});
