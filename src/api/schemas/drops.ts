/**
 * TypeBox schemas of the drops API: validation at the edge and the OpenAPI document
 * (/openapi.json) come from these, so the wire contract (docs/api.md, docs/architecture.md)
 * lives in one place.
 */
import { Type, type Static } from 'typebox';
import { DROP_STATUSES, THUMBNAIL_STATES } from '../../core/manifest.js';
import { MAX_OBJECT_SIZE, MAX_PARTS } from '../../core/parts.js';

/** An error answer: a reference to the shared `Error` component (schemas/responses.ts). */
export const ErrorResponse = Type.Ref('Error', { description: 'An error: branch on `error.code`.' });

export const DropParams = Type.Object({ id: Type.String({ maxLength: 64, description: 'Drop id', examples: ['V1StGXR8_Z5jdHi6B-myT'] }) });

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
    maxDownloads: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
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
});
export type DropView = Static<typeof DropView>;
