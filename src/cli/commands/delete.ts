/** `dropship delete`: deletes a drop (or cancels its upload), or a collection and its drops, with its owner token. */
import { parse, serverOf } from '../args.js';
import { DropshipApiError } from '../../client/index.js';
import { EXIT, UsageError } from '../exit.js';
import { clientFor, teller, json, print, type Io } from '../io.js';
import { StateStore, stateFilePath } from '../state.js';
import { onlyTarget } from '../target.js';
import { help } from './help.js';

export async function remove(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { 'owner-token': { type: 'string' } });
  if (values.help) return help(io, 'delete');
  const target = onlyTarget(positionals, 'delete', ['drop', 'collection']);
  const state = new StateStore(stateFilePath(io.env));
  if (target.kind === 'collection') return removeCollection(target.id, target.server, values, state, io);
  const known = await state.ownerTokenOf(target.id);
  const token = values['owner-token'] ?? io.env.DROPSHIP_OWNER_TOKEN ?? known?.ownerToken;
  if (!token) {
    throw new UsageError(
      `no owner token for ${target.id}: it was not uploaded from this machine (or its record is gone); pass --owner-token or set DROPSHIP_OWNER_TOKEN`,
    );
  }
  const server = serverOf(values.server, target.server ?? known?.server, io.env);
  // Deleting twice is not an error: the server answers a deleted drop as cancelled, and a
  // drop this machine deleted that has since been removed for good is reported as deleted.
  const before = await state.wasDeleted(target.id).catch(() => false);
  let v: { id: string; status: string };
  try {
    v = await clientFor(server, values['api-key'] ?? io.env.DROPSHIP_API_KEY, teller(io, values.quiet)).deleteDrop(target.id, token, io.signal);
  } catch (e) {
    if (!(before && e instanceof DropshipApiError && e.code === 'DROP_NOT_FOUND')) throw e;
    v = { id: target.id, status: 'deleted' };
  }
  await state.deleted(target.id, { ownerToken: token, server }).catch(() => {});
  if (values.json) json(io, v);
  else print(io, `${v.id} ${v.status}`);
  return EXIT.OK;
}

async function removeCollection(
  id: string,
  fromUrl: string | undefined,
  values: { 'owner-token'?: string | undefined; server?: string | undefined; 'api-key'?: string | undefined; quiet?: boolean | undefined; json?: boolean | undefined },
  state: StateStore,
  io: Io,
): Promise<number> {
  const known = await state.collectionOf(id).catch(() => undefined);
  const token = values['owner-token'] ?? io.env.DROPSHIP_OWNER_TOKEN ?? known?.ownerToken;
  if (!token) {
    throw new UsageError(`no owner token for collection ${id}: it was not made from this machine; pass --owner-token or set DROPSHIP_OWNER_TOKEN`);
  }
  const server = serverOf(values.server, fromUrl ?? known?.server, io.env);
  let v: { id: string; status: string };
  try {
    v = await clientFor(server, values['api-key'] ?? io.env.DROPSHIP_API_KEY, teller(io, values.quiet)).deleteCollection(id, token, io.signal);
  } catch (e) {
    // Deleted from here before and swept since: still deleted.
    if (!(known?.deletedAt && e instanceof DropshipApiError && e.code === 'COLLECTION_NOT_FOUND')) throw e;
    v = { id, status: 'deleted' };
  }
  await state.collectionDeleted(id, { ownerToken: token, server }).catch(() => {});
  if (values.json) json(io, v);
  else print(io, `${v.id} ${v.status}`);
  return EXIT.OK;
}
