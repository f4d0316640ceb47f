/**
 * What the CLI remembers between runs, in one JSON file (mode 0600: it holds owner tokens):
 *
 *   uploads  unfinished uploads by file identity (absolute path, size, mtime) → {id, ownerToken},
 *            written as soon as the ticket exists, so a killed run resumes on the next one;
 *   drops    finished drops by id → owner token, so `dropship delete <id>` needs no flag;
 *   collections  collections made by `upload` of several files, by id → owner token.
 *
 * Location: $DROPSHIP_STATE_FILE, else $XDG_STATE_HOME/dropship/uploads.json, else
 * ~/.local/state/dropship/uploads.json. Writes are atomic (temp file + rename) and re-read
 * the file first, so concurrent runs lose at most an entry written in the same instant.
 */
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface PendingUpload {
  id: string;
  ownerToken: string;
  server: string;
  shareUrl: string;
  name: string;
  startedAt: string;
}

export interface KnownDrop {
  ownerToken: string;
  server: string;
  name: string;
  shareUrl: string;
  completedAt: string;
  /** Set once `dropship delete` deleted it: a second delete then says so instead of failing. */
  deletedAt?: string;
}

export interface KnownCollection {
  ownerToken: string;
  server: string;
  shareUrl: string;
  createdAt: string;
  deletedAt?: string;
}

interface StateFile {
  version: 1;
  uploads: Record<string, PendingUpload>;
  drops: Record<string, KnownDrop>;
  collections: Record<string, KnownCollection>;
}

/** Finished drops kept for `delete`; the oldest go first. */
const MAX_DROPS = 2000;

export function stateFilePath(env: NodeJS.ProcessEnv): string {
  if (env.DROPSHIP_STATE_FILE) return env.DROPSHIP_STATE_FILE;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'dropship', 'uploads.json');
}

/** The identity of a file's content as far as resuming goes: same path, same size, same mtime. */
export function fileKey(absPath: string, size: number, mtimeMs: number): string {
  return JSON.stringify([absPath, size, Math.round(mtimeMs)]);
}

export class StateStore {
  /** Updates from parallel uploads in this process run one at a time (read-modify-write). */
  private chain: Promise<void> = Promise.resolve();
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  private async read(): Promise<StateFile> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Partial<StateFile>;
      return { version: 1, uploads: parsed.uploads ?? {}, drops: parsed.drops ?? {}, collections: parsed.collections ?? {} };
    } catch (e) {
      // A missing file is a first run; a corrupt one must not stop uploads (it only loses resume data).
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
      return { version: 1, uploads: {}, drops: {}, collections: {} };
    }
  }

  private update(fn: (s: StateFile) => void): Promise<void> {
    const run = this.chain.then(() => this.write(fn));
    this.chain = run.catch(() => {});
    return run;
  }

  private async write(fn: (s: StateFile) => void): Promise<void> {
    const s = await this.read();
    fn(s);
    const cids = Object.keys(s.collections);
    if (cids.length > MAX_DROPS) {
      cids
        .sort((a, b) => s.collections[a]!.createdAt.localeCompare(s.collections[b]!.createdAt))
        .slice(0, cids.length - MAX_DROPS)
        .forEach((id) => delete s.collections[id]);
    }
    const ids = Object.keys(s.drops);
    if (ids.length > MAX_DROPS) {
      ids
        .sort((a, b) => s.drops[a]!.completedAt.localeCompare(s.drops[b]!.completedAt))
        .slice(0, ids.length - MAX_DROPS)
        .forEach((id) => delete s.drops[id]);
    }
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, this.path);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  async pending(key: string): Promise<PendingUpload | undefined> {
    return (await this.read()).uploads[key];
  }

  async started(key: string, upload: PendingUpload): Promise<void> {
    await this.update((s) => {
      s.uploads[key] = upload;
    });
  }

  async forget(key: string): Promise<void> {
    await this.update((s) => {
      delete s.uploads[key];
    });
  }

  async finished(key: string, id: string, drop: KnownDrop): Promise<void> {
    await this.update((s) => {
      delete s.uploads[key];
      s.drops[id] = drop;
    });
  }

  /** The owner token of a drop this machine uploaded (finished or not). */
  async ownerTokenOf(id: string): Promise<{ ownerToken: string; server: string } | undefined> {
    const s = await this.read();
    const d = s.drops[id] ?? Object.values(s.uploads).find((u) => u.id === id);
    return d ? { ownerToken: d.ownerToken, server: d.server } : undefined;
  }

  /** Whether `dropship delete` deleted this drop from here before. */
  async wasDeleted(id: string): Promise<boolean> {
    return (await this.read()).drops[id]?.deletedAt !== undefined;
  }

  /** Keeps the drop as deleted (with its token, so deleting again is answered, not refused); forgets its pending upload. */
  async deleted(id: string, drop: { ownerToken: string; server: string }): Promise<void> {
    await this.update((s) => {
      const pending = Object.entries(s.uploads).find(([, u]) => u.id === id)?.[1];
      const known = s.drops[id];
      s.drops[id] = {
        ownerToken: drop.ownerToken,
        server: drop.server,
        name: known?.name ?? pending?.name ?? '',
        shareUrl: known?.shareUrl ?? pending?.shareUrl ?? '',
        completedAt: known?.completedAt ?? '',
        deletedAt: new Date().toISOString(),
      };
      for (const [k, u] of Object.entries(s.uploads)) if (u.id === id) delete s.uploads[k];
    });
  }

  async collectionCreated(id: string, c: KnownCollection): Promise<void> {
    await this.update((s) => {
      s.collections[id] = c;
    });
  }

  /** A collection this machine made (deleted from here or not). */
  async collectionOf(id: string): Promise<KnownCollection | undefined> {
    return (await this.read()).collections[id];
  }

  async collectionDeleted(id: string, c: { ownerToken: string; server: string }): Promise<void> {
    await this.update((s) => {
      const known = s.collections[id];
      s.collections[id] = { shareUrl: known?.shareUrl ?? '', createdAt: known?.createdAt ?? '', ...c, deletedAt: new Date().toISOString() };
    });
  }
}
