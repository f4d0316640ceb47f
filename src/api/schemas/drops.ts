/**
 * TypeBox schemas of the drops API: validation at the edge and the OpenAPI document
 * (/openapi.json) come from these, so the wire contract (docs/api.md, docs/architecture.md)
 * lives in one place.
 */
import { Type, type Static } from 'typebox';
import { DROP_STATUSES, THUMBNAIL_STATES } from '../../core/manifest.js';
import { MAX_OBJECT_SIZE, MAX_PARTS } from '../../core/parts.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../core/passwords.js';
import { MAX_DOWNLOADS } from '../../core/limits.js';

/** An error answer: a reference to the shared `Error` component (schemas/responses.ts). */
export const ErrorResponse = Type.Ref('Error', { description: 'An error: branch on `error.code`.' });

export const DropParams = Type.Object({ id: Type.String({ maxLength: 64, description: 'Drop id', examples: ['V1StGXR8_Z5jdHi6B-myT'] }) });

/** Private metadata: at most 16 entries, names of 1..64 of `A-Z a-z 0-9 _ . -`, ≤ 2 KiB as JSON (checked by the service). */
export const METADATA_NAME = '^[A-Za-z0-9_.-]{1,64}$';
export const Metadata = Type.Record(Type.String(), Type.String({ maxLength: 2048 }), {
  maxProperties: 16,
  // propertyNames (not a pattern key): a bad name is answered "must match pattern …", naming it.
  propertyNames: { pattern: METADATA_NAME },
  description:
    'Private metadata, string → string: at most 16 entries, names matching ^[A-Za-z0-9_.-]{1,64}$, at most 2048 bytes in all as JSON. Shown only to the key that created the drop and to the owner token; never on the share page or to anonymous readers.',
});

/** A drop's password: 4..256 characters, stored only as a salted scrypt hash. */
export const Password = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  description:
    'Protects the drop: until a reader unlocks it (POST /d/{id}/unlock) only its id, status and expiry are shown, and the file, its name and thumbnails are refused. 4..256 characters; stored only as a salted scrypt hash.',
});

export const CreateDropBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 1024, description: 'File name, shown to people and used for downloads.' }),
    size: Type.Integer({ minimum: 0, maximum: MAX_OBJECT_SIZE, description: 'Exact size in bytes.' }),
    type: Type.Optional(Type.String({ maxLength: 255, description: 'Declared media type (informational; the worker sniffs the real one).' })),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'Hex SHA-256 of the file, recorded in the manifest.' })),
    expiresIn: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Seconds the drop lives from now (default DROPSHIP_DEFAULT_EXPIRES_IN, 60..DROPSHIP_MAX_EXPIRES_IN; 0 = never, only where the server allows it). Longer than the server allows is a 400.',
      }),
    ),
    maxDownloads: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_DOWNLOADS, description: 'Downloads allowed before the link answers 410 (GET /v1/limits: `maxDownloads.max`).' }),
    ),
    metadata: Type.Optional(Metadata),
    password: Type.Optional(Password),
  },
  { additionalProperties: false },
);
export type CreateDropBody = Static<typeof CreateDropBody>;

export const SignedPart = Type.Object({
  partNumber: Type.Integer(),
  url: Type.String({ description: 'PUT exactly `size` bytes here; the response ETag identifies the part.' }),
  size: Type.Integer(),
  expiresAt: Type.String({ format: 'date-time' }),
  headers: Type.Record(Type.String(), Type.String(), {
    description: 'Request headers (name → value) to send with the PUT: they are signed into the URL and S3 refuses the PUT without them. A single PUT carries `if-none-match: *`.',
  }),
});

export const CreateDropResponse = Type.Object({
  id: Type.String(),
  shareUrl: Type.String(),
  ownerToken: Type.String({ description: 'Returned once; send as X-Owner-Token to change the drop.' }),
  status: Type.Literal('uploading'),
  expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the drop expires; absent: never.' })),
  upload: Type.Object({
    mode: Type.Union([Type.Literal('multipart'), Type.Literal('single')]),
    partSize: Type.Integer(),
    partCount: Type.Integer(),
    expiresAt: Type.String({ format: 'date-time', description: 'The upload deadline: complete before this (never after the drop\'s expiresAt).' }),
  }),
  parts: Type.Array(SignedPart),
});

export const PartsBody = Type.Object(
  { partNumbers: Type.Array(Type.Integer({ minimum: 1, maximum: MAX_PARTS }), { minItems: 1, maxItems: MAX_PARTS }) },
  { additionalProperties: false },
);

export const PartsResponse = Type.Object({ parts: Type.Array(SignedPart) });

export const UploadedPartsResponse = Type.Object({
  partSize: Type.Integer(),
  partCount: Type.Integer(),
  parts: Type.Array(Type.Object({ partNumber: Type.Integer(), size: Type.Integer(), etag: Type.String() })),
});

export const CompleteBody = Type.Object(
  {
    parts: Type.Optional(
      Type.Array(
        Type.Object(
          { partNumber: Type.Integer({ minimum: 1, maximum: MAX_PARTS }), etag: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
        { maxItems: MAX_PARTS },
      ),
    ),
  },
  { additionalProperties: false },
);

export const DropView = Type.Object({
  id: Type.String(),
  status: Type.Enum(DROP_STATUSES),
  name: Type.String(),
  size: Type.Integer(),
  type: Type.String({ description: 'Sniffed media type once the worker has seen the bytes, else the declared one.' }),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Optional(
    Type.String({ format: 'date-time', description: 'When the drop expires (then status is `expired` and it is deleted); absent: never.' }),
  ),
  completedAt: Type.Optional(Type.String({ format: 'date-time' })),
  readyAt: Type.Optional(Type.String({ format: 'date-time' })),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  thumbnail: Type.Enum(THUMBNAIL_STATES),
  thumbnails: Type.Array(Type.Object({ width: Type.Integer(), height: Type.Integer(), url: Type.String() })),
  shareUrl: Type.String(),
  downloadUrl: Type.String(),
  failureReason: Type.Optional(Type.String()),
  maxDownloads: Type.Optional(Type.Integer({ minimum: 1, description: 'The download limit the drop was created with; absent: none.' })),
  downloadsLeft: Type.Optional(Type.Integer({ minimum: 0, description: 'Downloads left before the link answers 410 DOWNLOAD_LIMIT_REACHED, when there is a limit.' })),
  metadata: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description: 'The drop\'s private metadata: only for the key that created it (Authorization) or its owner token (X-Owner-Token).',
    }),
  ),
  protected: Type.Optional(
    Type.Literal(true, { description: 'The drop has a password; this reader unlocked it, owns it or created it.' }),
  ),
});
export type DropView = Static<typeof DropView>;

export const ProtectedDropView = Type.Object(
  {
    id: Type.String(),
    status: Type.Enum(DROP_STATUSES),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the drop expires; absent: never.' })),
    protected: Type.Literal(true),
  },
  { description: 'A password-protected drop this reader has not unlocked: nothing about the file.' },
);
export type ProtectedDropView = Static<typeof ProtectedDropView>;

/** What a reader sees: the drop, or — protected and not unlocked — only its status. */
export const ReaderView = Type.Union([DropView, ProtectedDropView]);

export const UnlockBody = Type.Object({ password: Password }, { additionalProperties: false });

export const UnlockResponse = Type.Object({
  id: Type.String(),
  unlockToken: Type.String({
    description:
      'Send as `X-Unlock-Token` (or let the browser keep the `dropship_unlock` cookie, set too) to read the drop, its file and thumbnails until `expiresAt`.',
  }),
  expiresAt: Type.String({ format: 'date-time', description: 'When the unlock ends (DROPSHIP_UNLOCK_TTL after it).' }),
});

export const LIST_LIMIT_MAX = 100;

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIST_LIMIT_MAX, default: 50, description: 'Drops per page (1..100, default 50).' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The `nextCursor` of the previous page.' })),
    status: Type.Optional(Type.Enum(DROP_STATUSES, { description: 'Only drops in this status.' })),
  },
  { additionalProperties: false },
);

export const ListResponse = Type.Object(
  {
  drops: Type.Array(DropView, { description: 'The key\'s drops, newest first, with their metadata (its protected drops too: the key created them).' }),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Send as `cursor` for the next page; null: this was the last.' }),
  },
  { description: 'One page of the key\'s drops.' },
);

export const LOOKUP_MAX = 100;

export const LookupBody = Type.Object(
  {
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      minItems: 1,
      maxItems: LOOKUP_MAX,
      uniqueItems: true,
      description: '1..100 distinct drop ids.',
    }),
  },
  { additionalProperties: false },
);

export const NotFoundEntry = Type.Object({ id: Type.String(), status: Type.Literal('not_found') });

export const LookupResponse = Type.Object(
  {
    drops: Type.Array(Type.Union([DropView, ProtectedDropView, NotFoundEntry]), {
      description: 'One entry per id, in the order asked; another key\'s password-protected drop shows only its status.',
    }),
  },
  { description: 'The status of each drop asked for.' },
);
