/** Per-client buckets (src/core/clients.ts): IPv4 by address, IPv6 by /64. */
import { describe, expect, it } from 'vitest';
import { clientKey, ipv6Groups, isPageRequest } from '../../src/core/clients.js';

describe('clientKey', () => {
  it.each([
    ['127.0.0.1', 'ip:127.0.0.1'],
    ['203.0.113.9', 'ip:203.0.113.9'],
    ['::ffff:203.0.113.9', 'ip:203.0.113.9'],
    ['::ffff:cb00:7109', 'ip:203.0.113.9'],
    ['::1', 'ip:0:0:0:0::/64'],
    ['2001:db8::1', 'ip:2001:db8:0:0::/64'],
    ['2001:db8::ffff:1', 'ip:2001:db8:0:0::/64'],
    ['2001:db8:0:0:aaaa:bbbb:cccc:dddd', 'ip:2001:db8:0:0::/64'],
    ['2001:DB8:0:1::1', 'ip:2001:db8:0:1::/64'],
    ['2001:db8:0:1:0:0:0:1%eth0', 'ip:2001:db8:0:1::/64'],
    ['fe80::1:2:3:4', 'ip:fe80:0:0:0::/64'],
    ['not-an-address', 'ip:not-an-address'],
    ['', 'ip:'],
  ])('%s → %s', (addr, key) => {
    expect(clientKey(addr)).toBe(key);
  });

  it('two addresses of one /64 share a bucket, neighbouring /64s do not', () => {
    expect(clientKey('2001:db8:1:2::a')).toBe(clientKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:1:2::a')).not.toBe(clientKey('2001:db8:1:3::a'));
  });

  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['1::', [1, 0, 0, 0, 0, 0, 0, 0]],
    ['::2', [0, 0, 0, 0, 0, 0, 0, 2]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['::1.2.3.4', [0, 0, 0, 0, 0, 0, 0x102, 0x304]],
    ['1.2.3.4', undefined],
    ['1:::2', undefined],
  ])('ipv6Groups(%s)', (addr, groups) => {
    expect(ipv6Groups(addr)).toEqual(groups);
  });
});

describe('isPageRequest: what counts against the page budget', () => {
  it.each([
    ['GET', '/', true],
    ['GET', '/?x=1', true],
    ['GET', '/favicon.svg', true],
    ['GET', '/assets/share-abc123.js', true],
    ['GET', '/d/V1StGXR8_Z5jdHi6B-myT', true],
    ['GET', '/c/V1StGXR8_Z5jdHi6B-myT', true],
    ['GET', '/c/V1StGXR8_Z5jdHi6B-myT/x', false],
    ['POST', '/c/V1StGXR8_Z5jdHi6B-myT', false],
    ['GET', '/v1/collections/V1StGXR8_Z5jdHi6B-myT', false],
    ['HEAD', '/d/V1StGXR8_Z5jdHi6B-myT/download', true],
    ['GET', '/d/V1StGXR8_Z5jdHi6B-myT/thumb/256', true],
    ['GET', '/d/V1StGXR8_Z5jdHi6B-myT/thumb/big', false],
    ['GET', '/d/V1StGXR8_Z5jdHi6B-myT/other', false],
    ['POST', '/d/V1StGXR8_Z5jdHi6B-myT', false],
    ['GET', '/v1/drops/V1StGXR8_Z5jdHi6B-myT', false],
    ['GET', '/s3/params', false],
    ['PUT', '/photo.jpg', false],
    ['GET', '/metrics', false],
  ])('%s %s → %s', (method, url, expected) => {
    expect(isPageRequest(method, url)).toBe(expected);
  });
});
