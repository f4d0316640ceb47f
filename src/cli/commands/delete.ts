/** `dropship delete`: deletes a drop (or cancels its upload) with its owner token. */
import { parse, serverOf } from '../args.js';
import { EXIT, UsageError } from '../exit.js';
import { clientFor, json, print, type Io } from '../io.js';
import { StateStore, stateFilePath } from '../state.js';
import { onlyTarget } from '../target.js';
import { help } from './help.js';

export async function remove(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { 'owner-token': { type: 'string' } });
  if (values.help) return help(io, 'delete');
  const target = onlyTarget(positionals, 'delete');
  const state = new StateStore(stateFilePath(io.env));
  const known = await state.ownerTokenOf(target.id);
  const token = values['owner-token'] ?? io.env.DROPSHIP_OWNER_TOKEN ?? known?.ownerToken;
  if (!token) {
    throw new UsageError(`no owner token for ${target.id}: this machine did not upload it; pass --owner-token`);
  }
  const server = serverOf(values.server, target.server ?? known?.server, io.env);
  const v = await clientFor(server, values['api-key'] ?? io.env.DROPSHIP_API_KEY).deleteDrop(target.id, token, io.signal);
  await state.deleted(target.id);
  if (values.json) json(io, v);
  else print(io, `${v.id} ${v.status}`);
  return EXIT.OK;
}
