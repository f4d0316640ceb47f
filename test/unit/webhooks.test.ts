/** The webhook decisions of src/core/webhooks.ts: receivers, ids, bodies, messages, verdicts, the retry schedule, confirmation. */
import { describe, expect, it } from 'vitest';
import { apply, newManifest, type Manifest } from '../../src/core/manifest.js';
import {
  CONFIRM_TRIES,
  confirmDecision,
  deliveriesFor,
  deliveriesMaxReceiveCount,
  deliveryRetryDelay,
  deliveryVerdict,
  expiryAnnounced,
  parseDeliveryMessage,
  settledEvent,
  webhookBody,
  webhookId,
  webhookTargets,
  type Receiver,
} from '../../src/core/webhooks.js';
import { loadConfig } from '../../src/config.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const base = (over: Partial<Manifest> = {}): Manifest => ({
  ...newManifest({
    id: 'V1StGXR8_Z5jdHi6B-myT',
    name: 'a.png',
    size: 3,
    type: 'image/png',
    ownerTokenHash: 'a'.repeat(64),
    upload: { mode: 'single', partSize: 3, partCount: 1 },
    source: 'ticket',
    now: T0,
    expiresAt: new Date(T0.getTime() + 3600_000),
  }),
  ...over,
});
const ready = (over: Partial<Manifest> = {}) => {
  const r = apply(base(over), { type: 'processed', at: new Date(T0.getTime() + 1000), sniffedType: 'image/png', thumbnail: 'none', thumbnails: [] });
  if (!r.ok) throw new Error('not ready');
  return r.manifest;
};
const rx = (url: string, events: Receiver['events']): Receiver => ({ url, secret: SECRET, events });

describe('receivers', () => {
  const global = [rx('https://a.example/hook', ['drop.ready']), rx('https://b.example/hook', ['drop.failed', 'drop.ready'])];
  const byKey = (id: string) => (id === 'k1' ? [rx('https://k1.example/hook', ['drop.ready', 'drop.deleted'])] : []);

  it.each([
    ['an anonymous drop: the global receivers only', undefined, ['global https://a.example/hook', 'global https://b.example/hook']],
    ['a key with receivers: the global ones, then the key\'s', 'k1', ['global https://a.example/hook', 'global https://b.example/hook', 'key:k1 https://k1.example/hook']],
    ['a key without receivers: the global ones', 'k2', ['global https://a.example/hook', 'global https://b.example/hook']],
  ])('%s', (_name, keyId, expected) => {
    const targetsFor = webhookTargets(global, byKey);
    expect(targetsFor(keyId ? { keyId } : {}).map((t) => `${t.scope} ${t.receiver.url}`)).toEqual(expected);
  });

  it('with no lookup, keys add no receivers', () => {
    expect(webhookTargets(global)({ keyId: 'k1' })).toHaveLength(2);
  });

  it('one message per receiver subscribed to the event, none for the others', () => {
    const targets = webhookTargets(global, byKey)({ keyId: 'k1' });
    const m = ready({ keyId: 'k1' });
    expect(deliveriesFor('drop.ready', m, targets, 'http://x').map((d) => d.receiver.url)).toEqual([
      'https://a.example/hook',
      'https://b.example/hook',
      'https://k1.example/hook',
    ]);
    expect(deliveriesFor('drop.failed', m, targets, 'http://x').map((d) => d.receiver.url)).toEqual(['https://b.example/hook']);
    expect(deliveriesFor('drop.expired', m, targets, 'http://x')).toEqual([]);
  });
});

describe('webhook-id', () => {
  it('is the same for the same drop, event and receiver, and differs when any of them does', () => {
    const id = webhookId('drop1', 'drop.ready', 'global', 'https://a.example/');
    expect(id).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
    expect(webhookId('drop1', 'drop.ready', 'global', 'https://a.example/')).toBe(id);
    const others = [
      webhookId('drop2', 'drop.ready', 'global', 'https://a.example/'),
      webhookId('drop1', 'drop.failed', 'global', 'https://a.example/'),
      webhookId('drop1', 'drop.ready', 'key:k1', 'https://a.example/'),
      webhookId('drop1', 'drop.ready', 'global', 'https://b.example/'),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
  });

  it('a duplicate enqueue renders the same message (id and body)', () => {
    const targets = webhookTargets([rx('https://a.example/', ['drop.ready'])])({});
    expect(deliveriesFor('drop.ready', ready(), targets, 'http://x')).toEqual(deliveriesFor('drop.ready', ready(), targets, 'http://x'));
  });
});

describe('body', () => {
  it('carries type, the event time and the drop view, with the metadata when the manifest has some', () => {
    const m = ready({ metadata: { order: '42' } });
    expect(webhookBody('drop.ready', m, 'http://h')).toEqual({
      type: 'drop.ready',
      timestamp: '2030-01-01T00:00:01.000Z',
      data: expect.objectContaining({ id: m.id, status: 'ready', shareUrl: `http://h/d/${m.id}`, metadata: { order: '42' } }),
    });
    expect(webhookBody('drop.ready', ready(), 'http://h').data).not.toHaveProperty('metadata');
  });

  it.each([
    ['drop.ready', '2030-01-01T00:00:01.000Z'],
    ['drop.failed', '2030-01-01T00:00:01.000Z'],
    ['drop.expired', '2030-01-01T01:00:00.000Z'],
  ] as const)('%s is timed from the manifest: %s', (event, time) => {
    expect(webhookBody(event, ready(), 'http://h').timestamp).toBe(time);
  });

  it('an explicit time wins (the api announces a delete before writing it)', () => {
    expect(webhookBody('drop.deleted', ready(), 'http://h', new Date('2030-02-02T00:00:00Z')).timestamp).toBe('2030-02-02T00:00:00.000Z');
  });
});

describe('which statuses announce', () => {
  it.each([
    ['ready', 'drop.ready'],
    ['failed', 'drop.failed'],
    ['uploading', undefined],
    ['processing', undefined],
    ['cancelled', undefined],
    ['expired', undefined],
  ] as const)('settled %s → %s', (status, event) => expect(settledEvent(status)).toBe(event));

  it.each([
    ['ready', true],
    ['failed', true],
    ['uploading', true],
    ['expired', true],
    ['cancelled', false],
  ] as const)('the sweep announces drop.expired for a %s drop: %s', (status, yes) => expect(expiryAnnounced({ status })).toBe(yes));
});

describe('delivery verdict', () => {
  it.each([
    [{ status: 200 }, true],
    [{ status: 204 }, true],
    [{ status: 299 }, true],
    [{ status: 199 }, false],
    [{ status: 301 }, false],
    [{ status: 302 }, false],
    [{ status: 400 }, false],
    [{ status: 410 }, false],
    [{ status: 500 }, false],
    [{ error: 'no answer within 5000 ms' }, false],
  ])('%o → delivered %s', (answer, delivered) => expect(deliveryVerdict(answer).delivered).toBe(delivered));

  it('says a redirect is not followed', () => expect(deliveryVerdict({ status: 307 }).reason).toMatch(/redirects are not followed/));
});

describe('retry schedule', () => {
  const schedule = [5, 60, 300];
  it.each([
    [1, 5],
    [2, 60],
    [3, 300],
    [4, 0],
    [9, 0],
    [0, 5],
    [Number.NaN, 5],
  ])('after attempt %s fails, wait %s s', (n, seconds) => expect(deliveryRetryDelay(n, schedule)).toBe(seconds));

  it('the queue gives up after the first attempt and one per scheduled retry', () => expect(deliveriesMaxReceiveCount(schedule)).toBe(4));

  it('the default spans more than a day; a configured one is parsed and checked', () => {
    const c = loadConfig({});
    expect(c.webhookRetrySchedule.reduce((a, b) => a + b, 0)).toBeGreaterThan(24 * 3600);
    expect(loadConfig({ DROPSHIP_WEBHOOK_RETRY_SCHEDULE: '1, 2,3' }).webhookRetrySchedule).toEqual([1, 2, 3]);
    for (const bad of ['x', '1,,-1', '43201', '1.5']) {
      expect(() => loadConfig({ DROPSHIP_WEBHOOK_RETRY_SCHEDULE: bad })).toThrow(/DROPSHIP_WEBHOOK_RETRY_SCHEDULE/);
    }
  });
});

describe('messages', () => {
  const [message] = deliveriesFor('drop.deleted', ready(), webhookTargets([rx('https://a.example/', ['drop.deleted'])])({}), 'http://x', {
    confirm: true,
  });

  it('round-trip through JSON; anything else is refused with a reason', () => {
    expect(parseDeliveryMessage(JSON.stringify(message))).toEqual({ ok: true, message });
    for (const bad of ['nope', '{}', JSON.stringify({ ...message, event: 'drop.sold' }), JSON.stringify({ ...message, receiver: { scope: 'x', url: 'u' } })]) {
      const r = parseDeliveryMessage(bad);
      expect(r.ok).toBe(false);
    }
  });

  it('one awaiting confirmation is delivered once the manifest says cancelled (or is gone), waits while it does not, then is dropped', () => {
    expect(confirmDecision(message!, 'cancelled')).toEqual({ action: 'deliver' });
    expect(confirmDecision(message!, 'expired')).toEqual({ action: 'deliver' });
    expect(confirmDecision(message!, undefined)).toEqual({ action: 'deliver' });
    let m = message!;
    for (let i = 1; i < CONFIRM_TRIES; i++) {
      const d = confirmDecision(m, 'ready');
      if (d.action !== 'wait') throw new Error(`expected wait at try ${i}`);
      expect(d.next.confirm!.tries).toBe(i);
      expect(d.next.id).toBe(message!.id);
      m = d.next;
    }
    expect(confirmDecision(m, 'ready')).toMatchObject({ action: 'drop' });
  });

  it('one without confirmation is always delivered', () => {
    const [plain] = deliveriesFor('drop.ready', ready(), webhookTargets([rx('https://a.example/', ['drop.ready'])])({}), 'http://x');
    expect(plain).not.toHaveProperty('confirm');
    expect(confirmDecision(plain!, 'ready')).toEqual({ action: 'deliver' });
  });
});
