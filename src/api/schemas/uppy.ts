/** TypeBox schemas of the Companion-compatible Uppy routes (src/api/routes/uppy.ts). */
import { Type, type Static } from 'typebox';
import { MAX_PARTS } from '../../core/parts.js';
import { PASSWORD_MAX_LENGTH } from '../../core/passwords.js';

/** The owner cookie POST /s3/multipart sets (`Path=/s3/multipart/{uploadId}`, HttpOnly). */
export const OWNER_COOKIE = 'dropship_uppy';

export const Count = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]{1,16}$' })]);
export const Metadata = Type.Object(
  {
    size: Type.Optional(Count),
    partSize: Type.Optional(Count),
    type: Type.Optional(Type.String({ maxLength: 255 })),
    password: Type.Optional(
      Type.String({ maxLength: PASSWORD_MAX_LENGTH, description: 'Protects the drop (4..256 characters; empty: no password).' }),
    ),
  },
  { additionalProperties: true, description: "Uppy's file meta; `size` is required, `password` protects the drop (see docs/uppy.md)." },
);
export const CreateBody = Type.Object({
  filename: Type.String({ minLength: 1, maxLength: 1024 }),
  type: Type.Optional(Type.String({ maxLength: 255 })),
  metadata: Type.Optional(Metadata),
  size: Type.Optional(Count),
});
export const CreateResponse = Type.Object({
  key: Type.String(),
  uploadId: Type.String(),
  bucket: Type.String(),
  id: Type.String(),
  shareUrl: Type.String(),
  ownerToken: Type.String({ description: 'Also set as an HttpOnly cookie scoped to this upload.' }),
  partSize: Type.Integer(),
  partCount: Type.Integer(),
});
export const UploadParams = Type.Object({
  uploadId: Type.String({ minLength: 1, maxLength: 1024, description: 'The S3 multipart upload id `POST /s3/multipart` answered.' }),
});
export const PartParams = Type.Object({
  uploadId: UploadParams.properties.uploadId,
  partNumber: Type.Integer({ minimum: 1, maximum: MAX_PARTS, description: 'The part to sign (1-based).', examples: [1] }),
});
export const KeyQuery = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 1024, description: 'The object key `POST /s3/multipart` answered (`drops/{id}/original`).' }),
});
export const BatchQuery = Type.Object({
  key: KeyQuery.properties.key,
  partNumbers: Type.String({ pattern: '^[0-9]{1,5}(,[0-9]{1,5}){0,9999}$', description: 'Comma-separated part numbers.', examples: ['1,2,3'] }),
});
export const OwnerHeader = Type.Object({ 'x-owner-token': Type.Optional(Type.String()) });
export const CompleteBody = Type.Object({
  parts: Type.Array(
    Type.Object({ PartNumber: Type.Integer({ minimum: 1, maximum: MAX_PARTS }), ETag: Type.String({ minLength: 1, maxLength: 128 }) }),
    { maxItems: MAX_PARTS },
  ),
});
export const ParamsQuery = Type.Object(
  {
    filename: Type.String({ minLength: 1, maxLength: 1024, description: 'The file name.', examples: ['photo.jpg'] }),
    type: Type.Optional(Type.String({ maxLength: 255, description: 'Declared media type.', examples: ['image/jpeg'] })),
    'metadata[size]': Type.Optional(
      Type.String({ pattern: '^[0-9]{1,16}$', description: 'The exact size in bytes (required; Uppy sends its file meta as `metadata[...]`).', examples: ['3145728'] }),
    ),
    'metadata[password]': Type.Optional(
      Type.String({
        maxLength: PASSWORD_MAX_LENGTH,
        description: 'Protects the drop (Uppy\'s `meta.password`, 4..256 characters; empty: no password). It travels in this URL, which dropship never logs; prefer multipart (`shouldUseMultipart: true`) where proxies log query strings.',
      }),
    ),
  },
  { additionalProperties: true },
);
export const EmptyResponse = Type.Object({});
export const PartsListResponse = Type.Array(Type.Object({ PartNumber: Type.Integer(), Size: Type.Integer(), ETag: Type.String() }));
export const PresignedUrlsResponse = Type.Object({ presignedUrls: Type.Record(Type.String(), Type.String()) });
export const SignedPartResponse = Type.Object({
  url: Type.String(),
  expires: Type.Integer({ description: 'Seconds the URL stays valid.' }),
});
export const CompleteResponse = Type.Object({
  location: Type.String({ description: 'The share page of the new drop.' }),
  key: Type.String(),
  bucket: Type.String(),
  id: Type.String(),
  shareUrl: Type.String(),
  status: Type.String(),
});
export const ParamsResponse = Type.Object({
  method: Type.Literal('POST'),
  url: Type.String(),
  fields: Type.Record(Type.String(), Type.String()),
  expires: Type.Integer(),
  key: Type.String(),
  id: Type.String(),
  shareUrl: Type.String(),
  ownerToken: Type.String(),
});

export type Count = Static<typeof Count>;
