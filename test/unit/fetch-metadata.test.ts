import { describe, expect, it } from 'vitest';
import { refuseCrossSite, type FetchMetadata } from '../../src/core/fetch-metadata.js';

const own = 'https://drops.example';
const open = { ownOrigin: own, corsOrigins: ['*'] };
const strict = { ownOrigin: own, corsOrigins: ['https://app.example'] };

describe('refuseCrossSite', () => {
  it.each<[string, FetchMetadata, typeof open, boolean]>([
    ['no browser headers (curl, an SDK, a forwarding server)', {}, strict, true],
    ['Uppy\'s same-origin fetch', { secFetchMode: 'cors', secFetchDest: 'empty' }, strict, true],
    ['a same-origin fetch in same-origin mode', { secFetchMode: 'same-origin', secFetchDest: 'empty' }, strict, true],
    ['<img src> on another site', { secFetchMode: 'no-cors', secFetchDest: 'image' }, open, false],
    ['a link or a typed URL', { secFetchMode: 'navigate', secFetchDest: 'document' }, open, false],
    ['an iframe', { secFetchMode: 'navigate', secFetchDest: 'iframe' }, open, false],
    ['a script tag', { secFetchMode: 'no-cors', secFetchDest: 'script' }, open, false],
    ['cors mode but an image destination', { secFetchMode: 'cors', secFetchDest: 'image' }, open, false],
    ['a websocket', { secFetchMode: 'websocket', secFetchDest: 'websocket' }, open, false],
    ['a fetch from an allowed origin', { secFetchMode: 'cors', secFetchDest: 'empty', origin: 'https://app.example' }, strict, true],
    ['a fetch from our own origin', { secFetchMode: 'cors', secFetchDest: 'empty', origin: own }, strict, true],
    ['a fetch from another origin', { secFetchMode: 'cors', secFetchDest: 'empty', origin: 'https://evil.example' }, strict, false],
    ['a fetch from any origin when all are allowed', { secFetchMode: 'cors', secFetchDest: 'empty', origin: 'https://evil.example' }, open, true],
    ['an old browser\'s <img> cross-site (Origin is not sent on no-cors GETs)', {}, open, true],
  ])('%s → %s', (_, h, allowed, ok) => {
    expect(refuseCrossSite(h, allowed).ok).toBe(ok);
  });
});
