// Parsing the S3 event notifications the worker receives from SQS.
//
// Delivery is at-least-once and the queue may hold things we did not expect (the
// s3:TestEvent S3 sends when the notification is configured, events for other keys after a
// misconfiguration, hand-sent junk), so parsing never throws: it says what the message is
// and the worker decides to process, skip or drop it.
// S3 URL-encodes object keys in notifications, form-style: a space arrives as "+", and a
// literal "+" as "%2B".

import { uploadedObjectOf } from './layout.js';

export interface S3CreatedObject {
  dropId: string;
  /** `original`: the published key; `posted`: a form upload the worker has yet to publish. */
  kind: 'original' | 'posted';
  key: string;
  size: number;
  eTag?: string;
  eventName: string;
  sequencer?: string;
}

export type S3EventMessage =
  | { kind: 'test' }
  | { kind: 'objects'; objects: S3CreatedObject[]; ignored: number }
  | { kind: 'invalid'; reason: string };

/** A key as S3 wrote it in a notification, decoded; undefined if its escapes are malformed. */
export function decodeS3Key(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  }
  // Stryker disable next-line BlockStatement: an empty catch block returns undefined just the same
  catch {
    return undefined;
  }
}

export function parseS3EventMessage(body: string): S3EventMessage {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  if (!isObject(message)) return { kind: 'invalid', reason: 'body is not a JSON object' };
  if (message['Event'] === 's3:TestEvent') return { kind: 'test' };

  const records = message['Records'];
  if (!Array.isArray(records)) return { kind: 'invalid', reason: 'no Records array' };

  const objects: S3CreatedObject[] = [];
  let ignored = 0;
  for (const [i, record] of records.entries()) {
    if (!isObject(record)) return { kind: 'invalid', reason: `Records[${i}] is not an object` };
    const eventName = record['eventName'];
    if (typeof eventName !== 'string') return { kind: 'invalid', reason: `Records[${i}].eventName is missing` };
    if (!eventName.startsWith('ObjectCreated:')) {
      ignored += 1;
      continue;
    }
    const s3 = record['s3'];
    const object = isObject(s3) ? s3['object'] : undefined;
    if (!isObject(object)) return { kind: 'invalid', reason: `Records[${i}].s3.object is missing` };
    const { key: rawKey, size, eTag, sequencer } = object;
    if (typeof rawKey !== 'string') return { kind: 'invalid', reason: `Records[${i}].s3.object.key is missing` };
    if (!Number.isSafeInteger(size) || (size as number) < 0) {
      return { kind: 'invalid', reason: `Records[${i}].s3.object.size is not a byte count` };
    }
    // A key we cannot decode is not one we wrote: ours are plain ASCII.
    const key = decodeS3Key(rawKey);
    const uploaded = key === undefined ? undefined : uploadedObjectOf(key);
    if (!uploaded) {
      ignored += 1;
      continue;
    }
    objects.push({
      dropId: uploaded.dropId,
      kind: uploaded.kind,
      key: key!,
      size: size as number,
      eventName,
      ...(typeof eTag === 'string' && { eTag }),
      ...(typeof sequencer === 'string' && { sequencer }),
    });
  }
  return { kind: 'objects', objects, ignored };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
