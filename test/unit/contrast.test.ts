/**
 * The focus ring is visible in both colour schemes: WCAG 2.2 (1.4.11, 2.4.13) asks 3:1
 * between the ring and what it is drawn on. Colours are read from src/web/base.css, so a
 * palette change that breaks it fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('../../src/web/base.css', import.meta.url), 'utf8');
const dark = css.slice(css.indexOf('@media (prefers-color-scheme: dark)'));
const light = css.slice(0, css.indexOf('@media (prefers-color-scheme: dark)'));
const colour = (block: string, name: string): string => {
  const m = new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(block);
  if (!m) throw new Error(`--${name} not found`);
  return m[1]!;
};
const luminance = (hex: string) => {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
};
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
};

describe('focus ring contrast', () => {
  it('the formula gives the known ratios', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#f0b400', '#ffffff')).toBeCloseTo(1.87, 2);
  });

  it.each([
    ['light', light, light],
    ['dark', dark, dark],
  ])('%s scheme: at least 3:1 against the page and the cards', (_name, block) => {
    const focus = colour(block, 'focus');
    for (const bg of ['bg', 'card']) expect(contrast(focus, colour(block, bg)), `--focus ${focus} on --${bg}`).toBeGreaterThanOrEqual(3);
  });
});
