/**
 * The names of pinned artifacts (`files`, `manifests`) become paths under their kind's folder in the bundle
 * (`repos/files/<name>`, `manifests/<name>`) and on the mirror. One name must be one path: relative, made of plain
 * segments, and not the folder of another name (`a` and `a/b` cannot both be files). Pure.
 */
import { quoteName, relativePathProblem } from '../util/path-name.js';

const SEGMENT = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$/;

/**
 * Why `name` cannot be an artifact path, or undefined when it can: a relative path as `relativePathProblem` has it
 * (the one check of names that become paths), whose segments are also plain: letters, digits and `. _ + -`, not
 * starting with "." (a name is a URL path on the mirror and an argument in install scripts).
 */
export function artifactNameProblem(name: string): string | undefined {
  const structural = relativePathProblem(name);
  if (structural) return structural;
  const segments = name.split('/');
  const odd = segments.find((s) => !SEGMENT.test(s));
  if (odd === undefined) return undefined;
  const what = segments.length === 1 ? 'is' : `has a segment ${quoteName(odd)} that is`;
  return `${what} not made of letters, digits and . _ + - (or starts with ".")`;
}

/** Pairs of names that are the same or where one is a folder of the other: [earlier index, later index]. */
export function artifactNameClashes(names: readonly string[]): Array<[number, number]> {
  const firstAt = new Map<string, number>();
  names.forEach((n, i) => {
    if (!firstAt.has(n)) firstAt.set(n, i);
  });
  const out: Array<[number, number]> = [];
  names.forEach((n, i) => {
    const same = firstAt.get(n)!;
    if (same !== i) out.push([same, i]);
    const segments = n.split('/');
    for (let k = 1; k < segments.length; k++) {
      const folder = firstAt.get(segments.slice(0, k).join('/'));
      if (folder !== undefined) out.push([Math.min(folder, i), Math.max(folder, i)]);
    }
  });
  return out.sort((x, y) => x[1] - y[1] || x[0] - y[0]);
}
