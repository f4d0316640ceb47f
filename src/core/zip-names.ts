// Entry names for a zip of several drops (the collection page's Download all). Pure and
// import-free, so the browser bundle can use it.

/**
 * Names for the entries of a zip of the collection: each drop's own name, and where two drops
 * share one, ` (2)`, ` (3)`… before the extension of the later ones (compared without case, as
 * the file systems people unzip onto do).
 */
export function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}
