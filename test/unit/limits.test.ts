/**
 * GET /v1/limits and the decisions behind it (src/core/limits.ts): the lifetimes on offer
 * within the server's bounds, and a key's own limits from the keys file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { expiryOptions, uploadLimits } from '../../src/core/limits.js';
import { keySha256 } from '../../src/config.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const MIB = 1024 * 1024;
const H = 3600;
const D = 86_400;

describe('expiryOptions', () => {
  it.each<[string, { defaultSeconds: number; maxSeconds: number }, number[]]>([
    ['the defaults: 7 days, at most 30', { defaultSeconds: 7 * D, maxSeconds: 30 * D }, [H, 6 * H, D, 3 * D, 7 * D, 14 * D, 30 * D]],
    ['an odd maximum is offered too', { defaultSeconds: D, maxSeconds: 2 * D }, [H, 6 * H, D, 2 * D]],
    ['an odd default is offered too', { defaultSeconds: 45 * 60, maxSeconds: 3 * D }, [45 * 60, H, 6 * H, D, 3 * D]],
    ['a maximum below every choice', { defaultSeconds: 600, maxSeconds: 900 }, [600, 900]],
    ['no maximum: every choice and never, last', { defaultSeconds: 0, maxSeconds: 0 }, [H, 6 * H, D, 3 * D, 7 * D, 14 * D, 30 * D, 90 * D, 365 * D, 0]],
    ['no maximum with a default', { defaultSeconds: 2 * D, maxSeconds: 0 }, [H, 6 * H, D, 2 * D, 3 * D, 7 * D, 14 * D, 30 * D, 90 * D, 365 * D, 0]],
  ])('%s', (_label, limits, expected) => {
    expect(expiryOptions(limits)).toEqual(expected);
  });
});

describe('uploadLimits', () => {
  const server = { maxFileSize: 5 * 1024 * MIB, lifetime: { defaultSeconds: 7 * D, maxSeconds: 30 * D } };

  it('without a key: the server\'s', () => {
    expect(uploadLimits(server)).toEqual({
      maxFileSize: 5 * 1024 * MIB,
      expiry: { default: 7 * D, max: 30 * D, options: [H, 6 * H, D, 3 * D, 7 * D, 14 * D, 30 * D] },
      maxDownloads: { max: 1_000_000 },
    });
  });

  it('a key narrows size, lifetimes and types; its maximum below the server default becomes its default', () => {
    expect(uploadLimits(server, { maxFileSize: MIB, maxExpiresIn: 2 * D, allowedTypes: ['image/*'] })).toEqual({
      maxFileSize: MIB,
      expiry: { default: 2 * D, max: 2 * D, options: [H, 6 * H, D, 2 * D] },
      maxDownloads: { max: 1_000_000 },
      allowedTypes: ['image/*'],
    });
  });

  it('a key\'s size limit never raises the server\'s', () => {
    expect(uploadLimits({ ...server, maxFileSize: MIB }, { maxFileSize: 2 * MIB }).maxFileSize).toBe(MIB);
  });
});

describe('GET /v1/limits', () => {
  const IMAGES = 'images-key-0123456789abcdef';
  const OPEN = 'open-key-0123456789abcdef';
  const keysFile = {
    keys: [
      { id: 'images', key: IMAGES, maxFileSize: MIB, allowedTypes: ['image/*'], defaultExpiresIn: D, maxExpiresIn: 2 * D },
      { id: 'open', keySha256: keySha256(OPEN) },
    ],
  };
  let t: MemoryApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answers the server\'s limits to anyone, from the configuration', async () => {
    t = await memoryApp({ DROPSHIP_MAX_FILE_SIZE: String(5 * 1024 * MIB), DROPSHIP_MAX_EXPIRES_IN: String(3 * D), DROPSHIP_DEFAULT_EXPIRES_IN: String(D) });
    const r = await t.call('GET', '/v1/limits');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      maxFileSize: 5 * 1024 * MIB,
      expiry: { default: D, max: 3 * D, options: [H, 6 * H, D, 3 * D] },
      maxDownloads: { max: 1_000_000 },
      passwords: true,
      keyRequired: false,
    });
    expect(r.headers.vary).toMatch(/authorization/i);
  });

  it('says when uploads need a key, and gives a key its own limits', async () => {
    t = await memoryApp({ DROPSHIP_PUBLIC_UPLOADS: 'false' }, { keysFile });
    const anon = (await t.call('GET', '/v1/limits')).json();
    expect(anon).toMatchObject({ keyRequired: true, maxFileSize: 5 * 1024 ** 4, expiry: { default: 7 * D, max: 30 * D } });
    const images = await t.call('GET', '/v1/limits', { headers: { authorization: `Bearer ${IMAGES}` } });
    expect(images.json()).toEqual({
      maxFileSize: MIB,
      expiry: { default: D, max: 2 * D, options: [H, 6 * H, D, 2 * D] },
      maxDownloads: { max: 1_000_000 },
      allowedTypes: ['image/*'],
      passwords: true,
      keyRequired: true,
    });
    const open = (await t.call('GET', '/v1/limits', { headers: { authorization: `Bearer ${OPEN}` } })).json();
    expect(open).toEqual({ ...anon });
  });

  it('an unknown key is refused, as on every route', async () => {
    t = await memoryApp({}, { keysFile });
    const r = await t.call('GET', '/v1/limits', { headers: { authorization: 'Bearer not-a-key-of-this-server' } });
    expect([r.statusCode, r.json().error.code]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('the limits it answers are the ones a ticket is held to', async () => {
    t = await memoryApp({ DROPSHIP_MAX_FILE_SIZE: String(10 * MIB), DROPSHIP_MAX_EXPIRES_IN: String(2 * D), DROPSHIP_DEFAULT_EXPIRES_IN: String(D) });
    const limits = (await t.call('GET', '/v1/limits')).json<{ maxFileSize: number; expiry: { max: number; options: number[] } }>();
    const at = (size: number, expiresIn?: number) =>
      t!.call('POST', '/v1/drops', { body: { name: 'x', size, ...(expiresIn !== undefined && { expiresIn }) } }).then((r) => r.statusCode);
    expect(await at(limits.maxFileSize)).toBe(201);
    expect(await at(limits.maxFileSize + 1)).toBe(413);
    for (const s of limits.expiry.options) expect(await at(1, s)).toBe(201);
    expect(await at(1, limits.expiry.max + 1)).toBe(400);
  });
});
