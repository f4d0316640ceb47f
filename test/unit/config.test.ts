import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config', () => {
  it('applies defaults and converts numbers and booleans', () => {
    const c = loadConfig({ PORT: '9000', DROPSHIP_PUBLIC_UPLOADS: 'true' });
    expect(c.PORT).toBe(9000);
    expect(c.DROPSHIP_PUBLIC_UPLOADS).toBe(true);
    expect(c.DROPSHIP_BUCKET).toBe('dropship');
    expect(c.s3PathStyle).toBe(false);
    expect(c.publicUrl).toBe('http://127.0.0.1:9000');
  });

  it('uses path-style addressing when an endpoint is set', () => {
    expect(loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }).s3PathStyle).toBe(true);
    expect(loadConfig({ AWS_ENDPOINT_URL: 'http://x:1', DROPSHIP_S3_PATH_STYLE: 'false' }).s3PathStyle).toBe(false);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DROPSHIP_PUBLIC_UPLOADS', 'maybe'],
    ['DROPSHIP_TICKET_TTL', '5'],
    ['LOG_LEVEL', 'loud'],
    ['AWS_ENDPOINT_URL', 'localhost:4566'],
    ['DROPSHIP_THUMB_WIDTHS', '256,big'],
  ])('rejects %s=%s and names the variable', (name, value) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.some((p) => p.startsWith(`${name}=`))).toBe(true);
  });

  it('drop lifetimes: 7 days by default, at most 30; "never" only when the maximum is lifted (0)', () => {
    const c = loadConfig({});
    expect([c.DROPSHIP_DEFAULT_EXPIRES_IN, c.DROPSHIP_MAX_EXPIRES_IN, c.DROPSHIP_SWEEP_INTERVAL]).toEqual([7 * 86400, 30 * 86400, 30]);
    expect(loadConfig({ DROPSHIP_MAX_EXPIRES_IN: '0', DROPSHIP_DEFAULT_EXPIRES_IN: '0' }).DROPSHIP_DEFAULT_EXPIRES_IN).toBe(0);
    for (const env of [
      { DROPSHIP_DEFAULT_EXPIRES_IN: '0' },
      { DROPSHIP_DEFAULT_EXPIRES_IN: '30' },
      { DROPSHIP_MAX_EXPIRES_IN: '30' },
      { DROPSHIP_MAX_EXPIRES_IN: '3600', DROPSHIP_DEFAULT_EXPIRES_IN: '7200' },
    ]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(/DROPSHIP_(DEFAULT|MAX)_EXPIRES_IN=/);
    }
  });

  it('lists API keys and thumbnail widths', () => {
    const c = loadConfig({ DROPSHIP_API_KEYS: ' a, b ,,c', DROPSHIP_THUMB_WIDTHS: '1024,256,256' });
    expect(c.apiKeys).toEqual(['a', 'b', 'c']);
    expect(c.thumbWidths).toEqual([256, 1024]);
  });
});

describe('DROPSHIP_TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    ['10.0.0.0/8', ['10.0.0.0/8']],
    ['10.0.0.0/8, 192.168.1.1 ,loopback', ['10.0.0.0/8', '192.168.1.1', 'loopback']],
    ['2001:db8::/32,::1', ['2001:db8::/32', '::1']],
  ])('%j → %j', (v, expected) => {
    expect(loadConfig(v === undefined ? {} : { DROPSHIP_TRUST_PROXY: v }).trustProxy).toEqual(expected);
  });

  it.each(['10.0.0.0/33', 'lb.example.com', '10.0.0.0/8/1', '::1/129', '101', 'true'])('refuses %j', (v) => {
    expect(() => loadConfig({ DROPSHIP_TRUST_PROXY: v })).toThrow(/DROPSHIP_TRUST_PROXY/);
  });
});

describe('DROPSHIP_WEBHOOKS', () => {
  const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
  const hook = { url: 'https://hooks.example.com/dropship', secret, events: ['drop.ready', 'drop.failed'] };

  it('is empty by default and parses a JSON array of receivers', () => {
    expect(loadConfig({}).webhooks).toEqual([]);
    expect(loadConfig({ DROPSHIP_WEBHOOKS: JSON.stringify([hook]) }).webhooks).toEqual([hook]);
  });

  it.each([
    ['not JSON', '{nope', /DROPSHIP_WEBHOOKS: not JSON/],
    ['an object', JSON.stringify(hook), /must be a JSON array/],
    ['a URL that is not http(s)', JSON.stringify([{ ...hook, url: 'ftp://x' }]), /DROPSHIP_WEBHOOKS\[0\]\.url/],
    ['a secret without whsec_', JSON.stringify([{ ...hook, secret: 'hunter2hunter2hunter2' }]), /DROPSHIP_WEBHOOKS\[0\]\.secret/],
    ['an unknown event', JSON.stringify([{ ...hook, events: ['drop.made'] }]), /DROPSHIP_WEBHOOKS\[0\]\.events/],
    ['no events', JSON.stringify([{ ...hook, events: [] }]), /DROPSHIP_WEBHOOKS\[0\]\.events/],
    ['an unknown field', JSON.stringify([{ ...hook, retries: 3 }]), /DROPSHIP_WEBHOOKS\[0\]/],
  ])('refuses %s, naming the entry', (_what, v, message) => {
    expect(() => loadConfig({ DROPSHIP_WEBHOOKS: v })).toThrow(message);
  });
});
