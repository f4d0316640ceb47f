/**
 * Examples for the OpenAPI document: what the Swagger UI at /docs fills "try it out" with and
 * what an integrator reads first. Modest on purpose — a 3 MiB photo (one PUT) and a 1 GiB video
 * (128 parts of 8 MiB) — so trying the api never reserves a 5 TiB ticket. Every example matches
 * its schema (the OpenAPI lint checks them: test/unit/openapi.test.ts).
 */
import type { TSchema } from 'typebox';

const MiB = 1024 * 1024;
const id = 'V1StGXR8_Z5jdHi6B-myT';
const host = 'https://drop.example.com';
const s3 = `https://dropship-files.s3.eu-west-1.amazonaws.com/drops/${id}/original`;
const signature = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20300101%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20300101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=content-length%3Bhost&X-Amz-Signature=4f1c2d';
const partUrl = (n: number) => `${s3}?partNumber=${n}&uploadId=2~uploadExample&${signature}`;
const created = '2030-01-01T00:00:00.000Z';
const partUrlExpiry = '2030-01-01T00:15:00.000Z';
const uploadDeadline = '2030-01-02T00:00:00.000Z';
const expiry = '2030-01-08T00:00:00.000Z';
const ownerToken = 'yV_Nl805Ym51pXH5VfQxqF3cKWbRH7Rl5tEPDtsr5U0';

const part = (partNumber: number, size = 8 * MiB) => ({ partNumber, url: partUrl(partNumber), size, expiresAt: partUrlExpiry, headers: {} });

const view = (over: Record<string, unknown>) => ({
  id,
  status: 'processing',
  name: 'holiday.mp4',
  size: 1024 * MiB,
  type: 'video/mp4',
  createdAt: created,
  expiresAt: expiry,
  thumbnail: 'pending',
  thumbnails: [],
  shareUrl: `${host}/d/${id}`,
  downloadUrl: `${host}/d/${id}/download`,
  ...over,
});

const collectionId = 'Q3bTn8vLk2Xw9pRz4HsYd';
const collection = (drops: unknown[]) => ({ id: collectionId, title: 'Holiday', createdAt: created, expiresAt: expiry, shareUrl: `${host}/c/${collectionId}`, drops });

export const examples = {
  createDrop: [
    { name: 'holiday.mp4', size: 1024 * MiB, type: 'video/mp4' },
    { name: 'photo.jpg', size: 3 * MiB, type: 'image/jpeg', expiresIn: 86_400 },
  ],
  ticket: [
    {
      id,
      shareUrl: `${host}/d/${id}`,
      ownerToken,
      status: 'uploading',
      expiresAt: expiry,
      upload: { mode: 'multipart', partSize: 8 * MiB, partCount: 128, expiresAt: uploadDeadline },
      parts: [part(1), part(2)],
    },
  ],
  partNumbers: [{ partNumbers: [17, 18, 19] }],
  signedParts: [{ parts: [part(17), part(18), part(19)] }],
  uploadedParts: [
    {
      partSize: 8 * MiB,
      partCount: 128,
      parts: [
        { partNumber: 1, size: 8 * MiB, etag: '"9b2cf535f27731c974343645a3985328"' },
        { partNumber: 2, size: 8 * MiB, etag: '"6f5902ac237024bdd0c176cb93063dc4"' },
      ],
    },
  ],
  complete: [{}, { parts: [{ partNumber: 1, etag: '"9b2cf535f27731c974343645a3985328"' }, { partNumber: 2, etag: '"6f5902ac237024bdd0c176cb93063dc4"' }] }],
  processingView: [view({ completedAt: '2030-01-01T00:04:10.000Z' })],
  cancelledView: [view({ status: 'cancelled', thumbnail: 'none' })],
  readyView: [
    view({
      name: 'photo.jpg',
      size: 3 * MiB,
      type: 'image/jpeg',
      status: 'ready',
      completedAt: '2030-01-01T00:00:04.000Z',
      readyAt: '2030-01-01T00:00:06.000Z',
      width: 4000,
      height: 3000,
      thumbnail: 'ready',
      thumbnails: [
        { width: 256, height: 192, url: `${host}/d/${id}/thumb/256` },
        { width: 1024, height: 768, url: `${host}/d/${id}/thumb/1024` },
      ],
    }),
  ],
  createCollection: [{ title: 'Holiday', drops: [{ id, ownerToken }] }, {}],
  collectionCreated: [{ id: collectionId, shareUrl: `${host}/c/${collectionId}`, ownerToken }],
  addToCollection: [{ id, ownerToken }],
  collectionView: [collection([view({ completedAt: '2030-01-01T00:04:10.000Z' })])],
  collectionDeleted: [{ id: collectionId, status: 'deleted', deletedAt: '2030-01-01T01:00:00.000Z' }],
  eventStream: `event: status\ndata: ${JSON.stringify(view({ completedAt: '2030-01-01T00:04:10.000Z' }))}\n\n: ping\n\n`,
  shareUrlText: `${host}/d/${id}\n`,
  id,
  ownerToken,
  uppy: {
    create: [{ filename: 'holiday.mp4', type: 'video/mp4', metadata: { size: 1024 * MiB, name: 'holiday.mp4', type: 'video/mp4' } }],
    created: [
      {
        key: `drops/${id}/original`,
        uploadId: '2~uploadExample',
        bucket: 'dropship-files',
        id,
        shareUrl: `${host}/d/${id}`,
        ownerToken,
        partSize: 5 * MiB,
        partCount: 205,
      },
    ],
    parts: [[{ PartNumber: 1, Size: 5 * MiB, ETag: '"9b2cf535f27731c974343645a3985328"' }]],
    batch: [{ presignedUrls: { '1': partUrl(1), '2': partUrl(2) } }],
    signed: [{ url: partUrl(1), expires: 900 }],
    complete: [{ parts: [{ PartNumber: 1, ETag: '"9b2cf535f27731c974343645a3985328"' }] }],
    completed: [
      { location: `${host}/d/${id}`, key: `drops/${id}/original`, bucket: 'dropship-files', id, shareUrl: `${host}/d/${id}`, status: 'processing' },
    ],
    params: [
      {
        method: 'POST',
        url: 'https://dropship-files.s3.eu-west-1.amazonaws.com/',
        fields: { key: `drops/${id}/original`, Policy: 'eyJleHBpcmF0aW9uIjoi...', 'X-Amz-Signature': '4f1c2d' },
        expires: 900,
        key: `drops/${id}/original`,
        id,
        shareUrl: `${host}/d/${id}`,
        ownerToken,
      },
    ],
  },
};

/**
 * A schema with a description (the response's or request body's, in the document) and
 * examples (the media type's). The schema itself, and what it validates, is unchanged.
 */
export function described<T extends TSchema>(schema: T, description: string, list?: unknown[]): T {
  return { ...schema, description, ...(list ? { examples: list } : {}) };
}
