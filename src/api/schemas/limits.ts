/** GET /v1/limits: what an uploader may ask for, before it uploads (src/core/limits.ts). */
import { Type, type Static } from 'typebox';

export const LimitsHeaders = Type.Object({
  authorization: Type.Optional(Type.String({ description: 'Bearer <API key>: that key\'s limits (the keys file may narrow them).' })),
});

export const LimitsResponse = Type.Object(
  {
    maxFileSize: Type.Integer({ minimum: 0, description: 'Largest file accepted, in bytes (DROPSHIP_MAX_FILE_SIZE, or the key\'s maxFileSize).' }),
    expiry: Type.Object({
      default: Type.Integer({ minimum: 0, description: 'Seconds a drop lives when the ticket has no expiresIn; 0 = never expires.' }),
      max: Type.Integer({ minimum: 0, description: 'Longest expiresIn accepted, in seconds; 0 = no maximum.' }),
      options: Type.Array(Type.Integer({ minimum: 0 }), {
        description: 'Lifetimes worth offering, in seconds, ascending, all within the bounds and including the default; 0 (never) last where drops may live forever.',
      }),
    }),
    maxDownloads: Type.Object({ max: Type.Integer({ minimum: 1, description: 'Largest maxDownloads accepted.' }) }),
    passwords: Type.Boolean({ description: 'Whether a ticket may carry a `password` (4..256 characters) that downloads must give.' }),
    keyRequired: Type.Boolean({ description: 'Whether uploading needs an API key (false: the server allows public uploads).' }),
    allowedTypes: Type.Optional(Type.Array(Type.String(), { description: 'The media types this API key may upload (`type/*` wildcards); absent: any.' })),
  },
  {
    description: 'What an upload may ask for here: the server\'s limits, or the calling key\'s.',
    examples: [
      {
        maxFileSize: 5 * 1024 ** 4,
        expiry: { default: 604_800, max: 2_592_000, options: [3600, 21_600, 86_400, 259_200, 604_800, 1_209_600, 2_592_000] },
        maxDownloads: { max: 1_000_000 },
        passwords: true,
        keyRequired: false,
      },
    ],
  },
);
export type LimitsResponse = Static<typeof LimitsResponse>;
