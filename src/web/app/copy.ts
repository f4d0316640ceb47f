/**
 * Copy buttons that say what happened: "Copied" on the button for about two seconds and a
 * polite announcement for screen readers; where the Clipboard API is refused (permissions,
 * an insecure context), the link is selected and the button says to press Ctrl+C (⌘C on a
 * Mac). Used by the upload cards, the "Your drops" list and the share page.
 */

/** How long the button says "Copied". */
export const COPIED_MS = 2000;

/** The copy shortcut of this platform. */
export function copyShortcut(platform: string): string {
  return /mac|iphone|ipad|ipod/i.test(platform) ? '⌘C' : 'Ctrl+C';
}

/** Writes `text` to the clipboard: true when it worked, false when the browser refused. */
export async function writeClipboard(text: string, clipboard: Pick<Clipboard, 'writeText'> | undefined): Promise<boolean> {
  if (!clipboard) return false;
  try {
    await clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export interface CopyOptions {
  /** The text to copy (read on each click). */
  text(): string;
  /** A field holding the text, selected when the clipboard is refused; made on demand when absent. */
  field?(): HTMLInputElement | undefined;
  /** What is copied, for the announcement ("Link copied."). */
  what?: string;
  /** Called after each attempt. */
  onCopied?(ok: boolean): void;
}

/**
 * Wires `button` up as a copy button. A live region next to it (visually hidden) carries the
 * announcement, so it works on any page without a shared announcer.
 */
export function copyButton(button: HTMLButtonElement, opts: CopyOptions): void {
  const label = button.textContent ?? 'Copy';
  const live = document.createElement('span');
  live.className = 'visually-hidden copy-status';
  live.setAttribute('role', 'status');
  live.setAttribute('aria-live', 'polite');
  button.after(live);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const say = (text: string) => {
    // Emptied first so the same message twice is read twice.
    live.textContent = '';
    requestAnimationFrame(() => (live.textContent = text));
  };
  button.addEventListener('click', async () => {
    const text = opts.text();
    const ok = await writeClipboard(text, navigator.clipboard);
    if (timer) clearTimeout(timer);
    const what = opts.what ?? 'Link';
    if (ok) {
      button.textContent = 'Copied';
      button.dataset.copied = 'true';
      say(`${what} copied.`);
    } else {
      const field = opts.field?.();
      if (field) {
        field.hidden = false;
        field.focus();
        field.select();
      }
      const keys = copyShortcut(navigator.platform || navigator.userAgent);
      button.textContent = `Press ${keys}`;
      button.dataset.copied = 'false';
      say(`Copying was refused by the browser. The ${what.toLowerCase()} is selected: press ${keys} to copy it.`);
    }
    opts.onCopied?.(ok);
    timer = setTimeout(() => {
      button.textContent = label;
      delete button.dataset.copied;
    }, COPIED_MS);
  });
}
