/**
 * TypeBox schemas of the collections API (one share link for several drops). A collection's
 * drops are shown exactly as GET /v1/drops/:id shows them to the public (`DropView`, never
 * the private metadata).
 */
import { Type, type Static } from 'typebox';
import { MAX_COLLECTION_DROPS, MAX_COLLECTION_TITLE } from '../../core/collections.js';
import { DropView } from './drops.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../core/passwords.js';

export const CollectionParams = Type.Object({
  id: Type.String({ maxLength: 64, description: 'Collection id', examples: ['Q3bTn8vLk2Xw9pRz4HsYd'] }),
});

export const DropRef = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, description: 'The drop\'s id.' }),
    ownerToken: Type.String({ minLength: 1, maxLength: 128, description: 'The drop\'s owner token: proves the drop is the caller\'s to share.' }),
  },
  { additionalProperties: false },
);

export const CreateCollectionBody = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 1024, description: `Shown on the collection's page (trimmed to ${MAX_COLLECTION_TITLE} characters).` })),
    drops: Type.Optional(
      Type.Array(DropRef, { maxItems: MAX_COLLECTION_DROPS, description: `Drops to put in it at once, in this order (at most ${MAX_COLLECTION_DROPS}).` }),
    ),
    password: Type.Optional(Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH, description: 'Protects the collection: until a reader unlocks it (POST /c/{id}/unlock) only its id and expiry are shown — no title, no drops. 4..256 characters; stored only as a salted scrypt hash.' })),
  },
  { additionalProperties: false },
);
export type CreateCollectionBody = Static<typeof CreateCollectionBody>;

export const CreateCollectionResponse = Type.Object({
  id: Type.String(),
  shareUrl: Type.String({ description: 'The collection\'s page: every file, with Download all.' }),
  ownerToken: Type.String({ description: 'Returned once; send as X-Owner-Token to add drops or delete the collection.' }),
});

export const CollectionView = Type.Object({
  id: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Optional(
    Type.String({ format: 'date-time', description: 'When the collection expires: when its last drop does (absent: never).' }),
  ),
  shareUrl: Type.String(),
  drops: Type.Array(DropView, { description: 'Its drops in the order added, each as GET /v1/drops/{id} shows it to anyone; drops deleted by the retention sweep are left out.' }),
  protected: Type.Optional(Type.Literal(true, { description: 'The collection has a password; this reader unlocked it or owns it.' })),
});
export type CollectionView = Static<typeof CollectionView>;

export const ProtectedCollectionView = Type.Object(
  {
    id: Type.String(),
    expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
    protected: Type.Literal(true),
  },
  { description: 'A password-protected collection this reader has not unlocked: no title, no drops.' },
);

/** What a reader sees of a collection: all of it, or — protected and not unlocked — its expiry only. */
export const CollectionReaderView = Type.Union([CollectionView, ProtectedCollectionView]);

export const CollectionDeleted = Type.Object({
  id: Type.String(),
  status: Type.Literal('deleted'),
  deletedAt: Type.String({ format: 'date-time' }),
});
