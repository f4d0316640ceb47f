/**
 * SVG documents for the worker's tests: a plain one, and hostile ones — each reaching for
 * something outside itself (`target` is where: a local file or an HTTP URL the test serves),
 * or too big a program. The hostile ones paint nothing of their own; whatever they would pull
 * in is solid red, so a red pixel in the raster means something was loaded.
 */
const NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"';

/** A 200×100 SVG: blue, with a green square at its left. */
export const plainSvg = (attrs = 'width="200" height="100"') =>
  Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg ${NS} ${attrs} viewBox="0 0 200 100">` +
      '<rect width="200" height="100" fill="#1d3557"/><rect id="sq" x="10" y="10" width="80" height="80" fill="#2a9d8f"/>' +
      '<use href="#sq" x="100"/></svg>',
  );

const wrap = (body: string, before = '') => Buffer.from(`${before}<svg ${NS} width="100" height="100">${body}</svg>`);

/** Each reaches for `target` (a file:// URL, a path or an http:// URL). */
export const externalSvgs = (target: { file: string; path: string; svgFile: string; http: string }) => ({
  'image href to a file:// URL': wrap(`<image href="${target.file}" width="100" height="100"/>`),
  'image href to a relative path': wrap(`<image href="red.png" width="100" height="100"/>`),
  'image xlink:href to a local path': wrap(`<image xlink:href="${target.path}" width="100" height="100"/>`),
  'image href to an http URL': wrap(`<image href="${target.http}/image.png" width="100" height="100"/>`),
  'image href to a data: URI': wrap(`<image href="data:image/png;base64,iVBORw0KGgo=" width="100" height="100"/>`),
  '<use> of an element in another file': wrap(`<use href="${target.svgFile}#red"/>`),
  'xml:base pointing a #id at another file': wrap(`<g xml:base="${target.svgFile}"><use href="#red"/></g>`),
  'fill: url() of another file': wrap(`<rect width="100" height="100" fill="url(${target.svgFile}#paint)"/>`),
  'style sheet @import': wrap(`<style>@import url("${target.http}/import.css");</style><rect width="100" height="100"/>`),
  'style sheet url() in a <style> CDATA': wrap(`<style><![CDATA[rect { fill: url('${target.http}/p.svg#p') }]]></style><rect width="100" height="100"/>`),
  'CSS escape in a style attribute': wrap(`<rect width="100" height="100" style="fill: \\75rl(${target.http}/e.svg#p)"/>`),
  'xml-stylesheet processing instruction': wrap('<rect width="100" height="100"/>', `<?xml-stylesheet type="text/css" href="${target.http}/pi.css"?>`),
  'XInclude of a local file': wrap(
    `<text y="50" xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="${target.file}" parse="text"/></text>`,
  ),
  'external entity (file)': wrap('<text y="50">&x;</text>', `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "${target.file}">]>`),
  'external entity (http)': wrap('<text y="50">&x;</text>', `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "${target.http}/entity">]>`),
  'external DTD': wrap('<rect width="100" height="100"/>', `<?xml version="1.0"?><!DOCTYPE svg SYSTEM "${target.http}/svg.dtd">`),
});

/** "Billion laughs": nine levels of ten entities each, 10^9 "lol"s if expanded. */
export function billionLaughs(): Buffer {
  let dtd = '<!ENTITY l0 "lol">';
  for (let i = 1; i <= 9; i++) dtd += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`;
  return wrap('<text y="50">&l9;</text>', `<?xml version="1.0"?><!DOCTYPE svg [${dtd}]>`);
}

export const hugeSvg = () =>
  Buffer.from(`<svg ${NS} width="100000000" height="100000000" viewBox="0 0 10 10"><rect width="10" height="10" fill="#1d3557"/></svg>`);

/** 5,000 nested groups. */
export const deeplyNestedSvg = (depth = 5000) => wrap(`${'<g>'.repeat(depth)}<rect width="10" height="10"/>${'</g>'.repeat(depth)}`);

/** 2^30 rectangles through 30 levels of doubled <use>: a few hundred bytes. */
export function useBomb(levels = 30): Buffer {
  let defs = '<rect id="u0" width="1" height="1"/>';
  for (let i = 1; i <= levels; i++) defs += `<g id="u${i}"><use href="#u${i - 1}"/><use href="#u${i - 1}" x="1"/></g>`;
  return wrap(`<defs>${defs}</defs><use href="#u${levels}"/>`);
}

/**
 * A CPU bomb that passes every check: 20 full-size shapes through a wide blur and dilation.
 * Drawing it at its own size (the largest thumbnail's) takes librsvg minutes, in one call
 * nothing can interrupt.
 */
export const filterBomb = () =>
  Buffer.from(
    `<svg ${NS} width="1024" height="1024"><filter id="f" x="-1" y="-1" width="3" height="3">` +
      '<feGaussianBlur stdDeviation="300"/><feMorphology operator="dilate" radius="200"/></filter>' +
      '<rect width="1024" height="1024" filter="url(#f)"/>'.repeat(20) +
      '</svg>',
  );

/** Many elements, none nested: over the element limit. */
export const manyElementsSvg = (n = 60_000) => wrap('<rect width="1" height="1"/>'.repeat(n));

/** script and foreignObject: nothing to a rasteriser, everything to a browser showing it inline. */
export const scriptedSvg = () =>
  wrap(
    '<script>alert(document.domain)</script><foreignObject width="100" height="100"><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>' +
      '<rect width="100" height="100" fill="#2a9d8f" onload="alert(1)"/>',
  );
