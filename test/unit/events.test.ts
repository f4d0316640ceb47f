import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeS3Key, parseS3EventMessage } from '../../src/core/events.js';
import { isDropId } from '../../src/core/ids.js';

const ID = 'V1StGXR8_Z5jdHi6B-myT';
const ORIGINAL = `drops/${ID}/original`;

// A record shaped like the ones S3 sends (event structure version 2.1).
function record(key: string, overrides: { eventName?: string; object?: Record<string, unknown> } = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2030-01-01T00:00:00.000Z',
    eventName: overrides.eventName ?? 'ObjectCreated:CompleteMultipartUpload',
    userIdentity: { principalId: 'AWS:EXAMPLE' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'R1', 'x-amz-id-2': 'H1' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'dropship-originals',
      bucket: { name: 'dropship', ownerIdentity: { principalId: 'EXAMPLE' }, arn: 'arn:aws:s3:::dropship' },
      object: { key, size: 20_971_520, eTag: 'd41d8cd98f00b204e9800998ecf8427e-3', sequencer: '0055AED6DCD90281E5', ...overrides.object },
    },
  };
}
const body = (...records: unknown[]): string => JSON.stringify({ Records: records });

// How S3 writes keys into notifications: URL-encoded, with "+" for a space.
const s3Encode = (key: string): string => encodeURIComponent(key).replace(/%20/g, '+');

describe('parseS3EventMessage', () => {
  it('recognises the test event S3 sends when the notification is configured', () => {
    const test = { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2030-01-01T00:00:00.000Z', Bucket: 'dropship', RequestId: 'R', HostId: 'H' };
    expect(parseS3EventMessage(JSON.stringify(test))).toEqual({ kind: 'test' });
  });

  it('extracts a drop original', () => {
    expect(parseS3EventMessage(body(record(ORIGINAL)))).toEqual({
      kind: 'objects',
      objects: [
        {
          dropId: ID,
          kind: 'original',
          key: ORIGINAL,
          size: 20_971_520,
          eTag: 'd41d8cd98f00b204e9800998ecf8427e-3',
          eventName: 'ObjectCreated:CompleteMultipartUpload',
          sequencer: '0055AED6DCD90281E5',
        },
      ],
      ignored: 0,
    });
  });

  it('leaves out the optional eTag and sequencer when S3 does', () => {
    const result = parseS3EventMessage(body(record(ORIGINAL, { object: { eTag: undefined, sequencer: undefined } })));
    expect(result).toEqual({ kind: 'objects', objects: [{ dropId: ID, kind: 'original', key: ORIGINAL, size: 20_971_520, eventName: 'ObjectCreated:CompleteMultipartUpload' }], ignored: 0 });
  });

  it.each([
    ['absent', { eTag: undefined, sequencer: undefined }],
    ['not strings', { eTag: 42, sequencer: null }],
  ])('has no eTag or sequencer field at all when they are %s', (_label, object) => {
    const result = parseS3EventMessage(body(record(ORIGINAL, { object })));
    if (result.kind !== 'objects') throw new Error(`unexpected ${result.kind}`);
    expect(result.objects).toHaveLength(1);
    expect(Object.keys(result.objects[0]!).sort()).toEqual(['dropId', 'eventName', 'key', 'kind', 'size']);
  });

  it('keeps an eTag and a sequencer independently of each other', () => {
    const onlyETag = parseS3EventMessage(body(record(ORIGINAL, { object: { sequencer: 7 } })));
    const onlySequencer = parseS3EventMessage(body(record(ORIGINAL, { object: { eTag: 7 } })));
    expect(onlyETag).toMatchObject({ objects: [{ eTag: 'd41d8cd98f00b204e9800998ecf8427e-3' }] });
    expect(onlyETag).not.toMatchObject({ objects: [{ sequencer: expect.anything() }] });
    expect(onlySequencer).toMatchObject({ objects: [{ sequencer: '0055AED6DCD90281E5' }] });
    expect(onlySequencer).not.toMatchObject({ objects: [{ eTag: expect.anything() }] });
  });

  it('tells a form upload (the posted key) from the published original', () => {
    const posted = `drops/${ID}/posted/original`;
    expect(parseS3EventMessage(body(record(posted, { eventName: 'ObjectCreated:Post' })))).toMatchObject({
      kind: 'objects',
      objects: [{ dropId: ID, kind: 'posted', key: posted, eventName: 'ObjectCreated:Post' }],
      ignored: 0,
    });
    expect(parseS3EventMessage(body(record(`drops/not-an-id/posted/original`)))).toMatchObject({ objects: [], ignored: 1 });
    expect(parseS3EventMessage(body(record(`drops/${ID}/posted/original/x`)))).toMatchObject({ objects: [], ignored: 1 });
    expect(parseS3EventMessage(body(record(`drops/${ID}/other/original`)))).toMatchObject({ objects: [], ignored: 1 });
  });

  it('accepts an empty object', () => {
    const result = parseS3EventMessage(body(record(ORIGINAL, { eventName: 'ObjectCreated:Put', object: { size: 0 } })));
    expect(result).toMatchObject({ kind: 'objects', objects: [{ size: 0, eventName: 'ObjectCreated:Put' }] });
  });

  it.each([
    ['plain', ORIGINAL],
    ['fully percent-encoded', encodeURIComponent(ORIGINAL)],
    ['with encoded letters', `drops/${ID.replace('V', '%56')}/original`],
  ])('decodes a %s original key', (_label, key) => {
    expect(parseS3EventMessage(body(record(key)))).toMatchObject({ kind: 'objects', objects: [{ dropId: ID, key: ORIGINAL }], ignored: 0 });
  });

  it.each([
    ['a manifest', `drops/${ID}/manifest.json`],
    ['a thumbnail', `drops/${ID}/thumb-256.webp`],
    ['a key outside drops/', 'uploads/my+photo%2B1+%28%C3%BC%29.jpg'],
    ['a malformed drop id', 'drops/not-an-id/original'],
    ['a deeper key', `drops/${ID}/original/x`],
    ['an encoded trailing space', `${ORIGINAL}+`],
    ['an encoded plus', `${ORIGINAL}%2B`],
    ['malformed percent-encoding', `${ORIGINAL}%`],
  ])('ignores %s', (_label, key) => {
    expect(parseS3EventMessage(body(record(key)))).toEqual({ kind: 'objects', objects: [], ignored: 1 });
  });

  it('ignores events other than ObjectCreated', () => {
    expect(parseS3EventMessage(body(record(ORIGINAL, { eventName: 'ObjectRemoved:Delete' })))).toEqual({ kind: 'objects', objects: [], ignored: 1 });
  });

  it('counts what it ignores in a mixed batch', () => {
    const other = 'A'.repeat(21);
    const result = parseS3EventMessage(
      body(record(ORIGINAL), record('logs/x'), record(`drops/${other}/original`, { eventName: 'ObjectCreated:Put' }), record(ORIGINAL, { eventName: 'ObjectRemoved:Delete' })),
    );
    expect(result).toMatchObject({ kind: 'objects', objects: [{ dropId: ID }, { dropId: other }], ignored: 2 });
  });

  it.each([
    ['not JSON', 'hello'],
    ['truncated JSON', '{"Records": ['],
    ['empty body', ''],
    ['JSON null', 'null'],
    ['a JSON array', '[]'],
    ['a JSON number', '42'],
    ['an object without Records', '{}'],
    ['Records not an array', '{"Records": {}}'],
    ['a null record', '{"Records": [null]}'],
    ['a record without eventName', JSON.stringify({ Records: [{ s3: record(ORIGINAL).s3 }] })],
    ['an ObjectCreated record without s3', JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put' }] })],
    ['an ObjectCreated record without s3.object', JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: {} }] })],
    ['a non-string key', body(record(ORIGINAL, { object: { key: 42 } }))],
    ['a missing size', body(record(ORIGINAL, { object: { size: undefined } }))],
    ['a negative size', body(record(ORIGINAL, { object: { size: -1 } }))],
    ['a fractional size', body(record(ORIGINAL, { object: { size: 1.5 } }))],
    ['a string size', body(record(ORIGINAL, { object: { size: '10' } }))],
    ['a test event spelled differently', '{"Event":"s3:testevent"}'],
  ])('reports %s as invalid', (_label, message) => {
    expect(parseS3EventMessage(message)).toMatchObject({ kind: 'invalid' });
  });

  // The reason is what the worker logs when it drops a message ("invalid message dropped"):
  // it must tell an operator which record and which field was wrong.
  const good = record(ORIGINAL);
  it.each([
    ['a record that is not an object', [good, 'x'], 'Records[1]'],
    ['a record without eventName', [good, good, { s3: good.s3 }], 'Records[2].eventName'],
    ['a record without s3', [{ eventName: 'ObjectCreated:Put' }], 'Records[0].s3.object'],
    ['a record without s3.object', [good, { eventName: 'ObjectCreated:Put', s3: {} }], 'Records[1].s3.object'],
    ['a record with a non-string key', [record(ORIGINAL, { object: { key: 42 } })], 'Records[0].s3.object.key'],
    ['a record with a bad size', [good, record(ORIGINAL, { object: { size: -1 } })], 'Records[1].s3.object.size'],
  ])('names the field at fault for %s', (_label, records, path) => {
    const result = parseS3EventMessage(body(...records));
    expect(result.kind).toBe('invalid');
    const reason = result.kind === 'invalid' ? result.reason : '';
    expect(reason.startsWith(`${path} `)).toBe(true);
  });

  it('gives each kind of malformed message its own reason', () => {
    const messages = [
      'hello',
      '42',
      '{}',
      body('x'),
      body({ s3: good.s3 }),
      body({ eventName: 'ObjectCreated:Put' }),
      body(record(ORIGINAL, { object: { key: 42 } })),
      body(record(ORIGINAL, { object: { size: -1 } })),
    ];
    const reasons = messages.map((m) => {
      const result = parseS3EventMessage(m);
      return result.kind === 'invalid' ? result.reason : `not invalid: ${result.kind}`;
    });
    for (const reason of reasons) expect(reason).toMatch(/^[\w[\]. ]{8,}$/);
    expect(new Set(reasons).size).toBe(messages.length);
  });

  it('never throws, whatever the body', () => {
    const keyArb = fc.oneof(fc.string(), fc.constant(ORIGINAL), fc.string({ unit: fc.constantFrom('%', '+', 'E', '0', '/', 'ü') }));
    const objectArb = fc.record(
      { key: fc.oneof(keyArb, fc.anything()), size: fc.oneof(fc.nat(), fc.anything()), eTag: fc.anything(), sequencer: fc.anything() },
      { requiredKeys: [] },
    );
    const recordArb = fc.oneof(
      fc.anything(),
      fc.record(
        {
          eventName: fc.oneof(fc.constantFrom('ObjectCreated:Put', 'ObjectRemoved:Delete'), fc.anything()),
          s3: fc.oneof(fc.anything(), fc.record({ object: fc.oneof(objectArb, fc.anything()) }, { requiredKeys: [] })),
        },
        { requiredKeys: [] },
      ),
    );
    const bodyArb = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.json(),
      fc.array(recordArb).map((records) => JSON.stringify({ Records: records })),
      fc.anything().map((v) => JSON.stringify(v) ?? ''),
    );
    fc.assert(
      fc.property(bodyArb, (message) => {
        const result = parseS3EventMessage(message);
        expect(['test', 'objects', 'invalid']).toContain(result.kind);
        if (result.kind === 'objects') {
          for (const object of result.objects) {
            expect(isDropId(object.dropId)).toBe(true);
            expect(object.key).toBe(`drops/${object.dropId}/original`);
            expect(Number.isSafeInteger(object.size) && object.size >= 0).toBe(true);
          }
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('accounts for every record of a well-formed message', () => {
    const keyArb = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{21}$/).map((id) => `drops/${id}/original`),
      fc.string({ unit: 'binary' }).map(s3Encode),
    );
    const eventNameArb = fc.constantFrom('ObjectCreated:Put', 'ObjectCreated:Copy', 'ObjectCreated:CompleteMultipartUpload', 'ObjectRemoved:Delete');
    fc.assert(
      fc.property(fc.array(fc.tuple(keyArb, eventNameArb), { maxLength: 10 }), (pairs) => {
        const result = parseS3EventMessage(body(...pairs.map(([key, eventName]) => record(key, { eventName }))));
        if (result.kind !== 'objects') throw new Error(`unexpected ${result.kind}`);
        expect(result.objects.length + result.ignored).toBe(pairs.length);
      }),
    );
  });
});

describe('decodeS3Key', () => {
  it.each([
    ['uploads/my+photo%2B1+%28%C3%BC%29.jpg', 'uploads/my photo+1 (ü).jpg'],
    ['a%2Bb', 'a+b'],
    ['a+b', 'a b'],
    ['%2B%2B++', '++  '],
    ['drops%2FV1StGXR8_Z5jdHi6B-myT%2Foriginal', ORIGINAL],
    ['%F0%9F%98%80', '😀'],
    ['', ''],
  ])('%j -> %j', (encoded, decoded) => {
    expect(decodeS3Key(encoded)).toBe(decoded);
  });

  it.each(['%', '%2', '%zz', '%E0%A4%A', '%C3'])('returns undefined for malformed %j', (encoded) => {
    expect(decodeS3Key(encoded)).toBeUndefined();
  });

  it('inverts S3’s encoding of any key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (key) => {
        expect(decodeS3Key(s3Encode(key))).toBe(key);
      }),
      { numRuns: 1_000 },
    );
  });
});
