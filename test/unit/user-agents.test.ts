import { describe, expect, it } from 'vitest';
import { usageText, wantsPlainText } from '../../src/core/user-agents.js';

describe('wantsPlainText: who gets usage text at /', () => {
  it.each([
    ['curl/8.5.0', '*/*', true],
    ['Wget/1.21.4', '*/*', true],
    ['HTTPie/3.2.2', 'application/json, */*;q=0.5', true],
    ['xh/0.22.0', undefined, true],
    ['curl/8.5.0', 'text/html', false],
    ['Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0', 'text/html,application/xhtml+xml', false],
    ['Mozilla/5.0 (compatible; curl-like-bot)', '*/*', false],
    [undefined, '*/*', false],
    ['', undefined, false],
  ])('%j with Accept %j → %s', (ua, accept, expected) => {
    expect(wantsPlainText(ua, accept)).toBe(expected);
  });
});

describe('usageText', () => {
  it('shows the upload, status, download and delete commands for this server', () => {
    const t = usageText('https://drop.example.com', { keyRequired: false, maxStreamBytes: '50 GiB' });
    expect(t).toContain('curl -T photo.jpg https://drop.example.com/');
    expect(t).toContain('curl -X DELETE -H "X-Owner-Token: <token>" https://drop.example.com/v1/drops/<id>');
    expect(t).toContain('Files up to 50 GiB');
    expect(t).not.toContain('Authorization');
    expect(t.endsWith('\n')).toBe(true);
  });

  it('adds the API key header when uploads need one', () => {
    expect(usageText('http://h', { keyRequired: true, maxStreamBytes: '1 GiB' })).toContain('curl -H "Authorization: Bearer $DROPSHIP_API_KEY" -T photo.jpg http://h/');
  });
});
