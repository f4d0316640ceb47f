/**
 * What an SVG contains, read with a strict, non-validating XML parser (saxes: it expands no
 * entity it was not told of and loads nothing). The facts go to `svgVerdict` in
 * src/core/processing.ts, which decides; nothing here decides.
 */
import { SaxesParser } from 'saxes';
import type { SvgFacts } from '../core/processing.js';

/** Every `url(…)` argument in a piece of CSS (a style sheet, a style attribute, a presentation attribute). */
function urlsIn(css: string): string[] {
  const out: string[] = [];
  const re = /url\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))\s*\)?/gi;
  for (const m of css.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3] ?? '').trim());
  return out;
}

/** Attributes whose value is a reference to load (an `<a>`'s href is a link, never loaded). */
const REFERENCE_ATTRIBUTES = new Set(['href', 'src']);
const XINCLUDE = 'http://www.w3.org/2001/XInclude';

export function inspectSvg(bytes: Uint8Array): SvgFacts {
  const facts: SvgFacts = {
    doctype: false,
    instructions: [],
    xinclude: false,
    references: [],
    imports: 0,
    cssEscapes: false,
    elements: 0,
    depth: 0,
  };
  const parser = new SaxesParser({ xmlns: true, position: false });
  let depth = 0;
  let inStyle = 0;
  const css = (text: string) => {
    facts.references.push(...urlsIn(text));
    facts.imports += (text.match(/@import/gi) ?? []).length;
    if (text.includes('\\')) facts.cssEscapes = true;
  };
  parser.on('doctype', () => {
    facts.doctype = true;
  });
  parser.on('processinginstruction', (pi) => {
    facts.instructions.push(`${pi.target} ${pi.body}`.trim());
  });
  parser.on('opentag', (tag) => {
    facts.elements++;
    depth++;
    facts.depth = Math.max(facts.depth, depth);
    if (!facts.root) facts.root = { name: tag.local, ns: tag.uri };
    if (tag.uri === XINCLUDE) facts.xinclude = true;
    if (tag.local === 'style') inStyle++;
    const link = tag.local === 'a';
    for (const attr of Object.values(tag.attributes)) {
      if (attr.prefix === 'xmlns' || attr.name === 'xmlns') continue;
      if (REFERENCE_ATTRIBUTES.has(attr.local) && !link) facts.references.push(attr.value.trim());
      // xml:base would make even a `#id` resolve against another document.
      if (attr.prefix === 'xml' && attr.local === 'base') facts.references.push(attr.value.trim());
      css(attr.value);
    }
  });
  parser.on('closetag', (tag) => {
    depth--;
    if (tag.local === 'style') inStyle--;
  });
  parser.on('text', (text) => {
    if (inStyle > 0) css(text);
  });
  parser.on('cdata', (text) => {
    if (inStyle > 0) css(text);
  });
  let error: string | undefined;
  parser.on('error', (e) => {
    error ??= e.message;
  });
  try {
    parser.write(new TextDecoder('utf-8', { fatal: true }).decode(bytes)).close();
  } catch (e) {
    error ??= e instanceof Error ? e.message : String(e);
  }
  if (error !== undefined) facts.error = error;
  return facts;
}

/** The root element of an XML document from its first bytes (for sniffing), if it gets that far. */
export function xmlRootOf(head: Uint8Array): { name: string; ns: string } | undefined {
  const parser = new SaxesParser({ xmlns: true, position: false });
  let root: { name: string; ns: string } | undefined;
  let failed = false;
  parser.on('opentag', (tag) => {
    root ??= { name: tag.local, ns: tag.uri };
  });
  parser.on('error', () => {
    failed = true;
  });
  try {
    // A head may end inside a multi-byte character or a tag: only what comes before matters.
    const text = new TextDecoder('utf-8').decode(head);
    for (let i = 0; i < text.length && !root && !failed; i += 512) parser.write(text.slice(i, i + 512));
  } catch {
    return undefined;
  }
  return failed && !root ? undefined : root;
}
