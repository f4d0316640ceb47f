/**
 * Unfinished uploads remembered across reloads, in localStorage: enough to find the drop
 * again (id, owner token) and to recognise the same file when it is dropped again (name,
 * size, lastModified — browsers cannot reopen a file by themselves). Entries go when the
 * upload finishes, is cancelled, or its ticket has expired.
 */

export interface Remembered {
  id: string;
  ownerToken: string;
  name: string;
  size: number;
  lastModified: number;
  shareUrl: string;
  /** When the server stops accepting parts (ISO); the entry is useless afterwards. */
  expiresAt: string;
}

const KEY = 'dropship.unfinished.v1';

export interface FileIdentity {
  name: string;
  size: number;
  lastModified: number;
}

export class ResumeStore {
  private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined;
  private readonly now: () => number;

  constructor(storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined = defaultStorage(), now: () => number = () => Date.now()) {
    this.storage = storage;
    this.now = now;
  }

  /** Called after every change (the page lists unfinished uploads). */
  onChange: (() => void) | undefined;

  list(): Remembered[] {
    const all = this.read();
    const live = all.filter((r) => Date.parse(r.expiresAt) > this.now());
    if (live.length !== all.length) this.write(live);
    return live;
  }

  find(file: FileIdentity): Remembered | undefined {
    return this.list().find((r) => r.name === file.name && r.size === file.size && r.lastModified === file.lastModified);
  }

  save(entry: Remembered) {
    this.write([...this.list().filter((r) => r.id !== entry.id), entry]);
  }

  remove(id: string) {
    const all = this.read();
    const rest = all.filter((r) => r.id !== id);
    if (rest.length !== all.length) this.write(rest);
  }

  private read(): Remembered[] {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(KEY) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter(isRemembered) : [];
    } catch {
      return [];
    }
  }

  private write(entries: Remembered[]) {
    try {
      if (entries.length) this.storage?.setItem(KEY, JSON.stringify(entries));
      else this.storage?.removeItem(KEY);
    } catch {
      // Storage full or disabled (private browsing): uploads still work, only resuming does not.
    }
    this.onChange?.();
  }
}

function isRemembered(v: unknown): v is Remembered {
  const r = v as Partial<Remembered> | null;
  return (
    !!r &&
    typeof r.id === 'string' &&
    typeof r.ownerToken === 'string' &&
    typeof r.name === 'string' &&
    typeof r.size === 'number' &&
    typeof r.lastModified === 'number' &&
    typeof r.shareUrl === 'string' &&
    typeof r.expiresAt === 'string'
  );
}

function defaultStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // access itself throws when storage is blocked
  }
}
