/**
 * What every route shares in the OpenAPI document: the one error body (component `Error`,
 * whose `code` enumerates the catalogue in src/core/errors.ts), the error responses a route
 * lists by the codes it can answer, and the security requirements of uploaders, owners and
 * anonymous readers. Routes declare their own success responses next to their handlers.
 */
import { Type, type TSchema } from 'typebox';
import { ERRORS, type ErrorCode } from '../../core/errors.js';

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** What each code means, for the document's response descriptions (docs/api.md has the same table). */
export const ERROR_MEANINGS: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'the request does not match the schema; `details.field` names the place',
  NAME_INVALID: 'empty, over 255 bytes, control characters, slashes or `.`/`..`',
  SIZE_INVALID: 'not a whole number of bytes from 0 to 5 TiB (or outside what this kind of upload allows)',
  PART_NUMBER_INVALID: 'part numbers outside the plan, repeated, or too many at once',
  PASSWORD_INVALID: 'a password shorter than 4 or longer than 256 characters',
  BODY_TOO_LARGE: 'a JSON request body over 2 MiB',
  LENGTH_MISMATCH: 'a streamed body did not match its Content-Length',
  STREAM_IDLE_TIMEOUT: 'a streaming client stopped sending',
  STREAM_TOO_SLOW: 'a streaming client sent less than the minimum rate',
  STREAM_TOO_LONG: 'a streaming upload ran past the maximum duration',
  UNAUTHORIZED: 'API key missing or unknown, or owner token missing',
  PASSWORD_REQUIRED: 'the drop is password-protected and this request has not unlocked it',
  PASSWORD_WRONG: 'the password is not the drop\'s',
  OWNER_TOKEN_INVALID: "the owner token is not this drop's (or this collection's; `details.dropId` names a drop being added)",
  CROSS_SITE_REFUSED: 'sent by a page as an image, link or frame, or from an origin outside the allowed CORS origins',
  DROP_NOT_FOUND: 'no such drop (malformed ids answer the same)',
  COLLECTION_NOT_FOUND: 'no such collection (malformed ids answer the same)',
  ROUTE_NOT_FOUND: 'no such route',
  THUMBNAIL_NOT_FOUND: 'no thumbnail of that width (yet)',
  DROP_NOT_READY: 'the file is not available (uploading, failed, cancelled)',
  DROP_NOT_UPLOADING: 'the drop can no longer be changed this way',
  DROP_NOT_PROTECTED: 'the drop has no password to unlock',
  PART_MISSING: 'parts not uploaded (`details.missing`)',
  PART_UNEXPECTED: 'parts outside the plan or listed twice',
  PART_SIZE_MISMATCH: "a part's size differs from the plan",
  PART_ETAG_MISMATCH: 'an ETag differs from what S3 holds',
  DROP_NOT_ADDABLE: 'the drop was cancelled, failed or expired, or is password-protected: it cannot join a collection (`details.dropId`, `details.status` or `details.reason`)',
  COLLECTION_FULL: 'the collection holds its maximum of drops (`details.max`)',
  DROP_EXPIRED: 'the drop or its upload ticket has expired',
  DROP_DELETED: 'the drop was deleted by its owner (or its upload cancelled)',
  DOWNLOAD_LIMIT_REACHED: '`maxDownloads` used up',
  COLLECTION_DELETED: 'the collection was deleted by its owner',
  COLLECTION_EXPIRED: 'every drop of the collection has expired, and so has the collection',
  FILE_TOO_LARGE: 'over the largest file this server (or this API key) accepts',
  TYPE_NOT_ALLOWED: 'the declared type is not one this API key may upload',
  UNSUPPORTED_MEDIA_TYPE: 'a JSON route got another content type',
  TOO_MANY_OPEN_TICKETS: 'this API key or address holds too many unfinished uploads',
  RATE_LIMITED: 'too many requests per minute (per verified API key, else per client address), or too many password attempts on a drop',
  TOO_MANY_EVENT_STREAMS: 'this client holds too many open event streams',
  TOO_MANY_STREAMS: 'this client holds too many streaming uploads',
  INTERNAL: 'something broke on the server; nothing internal is said',
  STORAGE_UNAVAILABLE: 'S3 is unreachable or failing; retry later',
  STORAGE_BUSY: 'one drop is being changed by many requests at once; retry later',
  UPLOAD_SLOTS_FULL: 'this replica holds its maximum of open uploads',
  STREAM_SLOTS_FULL: 'every streaming slot is taken',
  EVENT_STREAMS_FULL: 'this replica holds its maximum of event streams (or is shutting down)',
};

/** The error body of every route, published once as `#/components/schemas/Error`. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum(ERROR_CODES, { description: 'Stable machine-readable code: branch on this, never on `message`.' }),
      message: Type.String({ description: 'For people; may change between versions.' }),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Structured facts about the error, e.g. `field` for VALIDATION_FAILED.' })),
    }),
  },
  {
    $id: 'Error',
    description: 'Every error answer of the api.',
    examples: [{ error: { code: 'DROP_NOT_FOUND', message: 'no such drop' } }],
  },
);

const RetryAfter = {
  'retry-after': { type: 'integer', minimum: 0, description: 'Seconds to wait before trying again.' },
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  408: 'Request timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

/**
 * The error responses of a route, one per status of the codes it can answer, each described
 * by its codes and pointing at the shared `Error` body; 429 and 503 document Retry-After.
 * Every route also lists 500 INTERNAL.
 */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...new Set<ErrorCode>([...codes, 'INTERNAL'])]) {
    const status = ERRORS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        ...Type.Ref('Error'),
        description: `${STATUS_TEXT[status] ?? 'Error'}: ${list.map((c) => `\`${c}\` (${ERROR_MEANINGS[c]})`).join('; ')}.`,
        ...(status === 429 || status === 503 ? { headers: RetryAfter } : {}),
      },
    ]),
  ) as Record<number, TSchema>;
}

/** Errors any route may answer: its schema refused the request, the rate limit, storage trouble. */
export const COMMON_ERRORS = ['VALIDATION_FAILED', 'RATE_LIMITED', 'STORAGE_UNAVAILABLE'] as const satisfies readonly ErrorCode[];
/** What a JSON body adds. */
export const JSON_BODY_ERRORS = ['BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] as const satisfies readonly ErrorCode[];

/** An operation's security: any one of these requirements will do (`{}`: none at all). */
export type Security = Array<Record<string, string[]>>;

/** Security requirements (schemes in plugins/platform.ts). */
export const security = {
  /** Creating a drop: an API key, or nobody at all where the server allows public uploads. */
  uploader: (publicUploads: boolean): Security => (publicUploads ? [{ apiKey: [] }, {}] : [{ apiKey: [] }]),
  /** Changing a drop: its owner token. */
  owner: [{ ownerToken: [] }] as Security,
  /** Uppy's routes after create: the owner token as a header, or the cookie create set. */
  uppyOwner: [{ ownerToken: [] }, { uppyOwnerCookie: [] }] as Security,
  /** Anyone holding the id (or the URL). */
  anonymous: [] as Security,
};
