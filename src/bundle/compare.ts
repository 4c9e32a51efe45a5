import { BUNDLE_YAML, SUMS, isUncovered } from './layout.js';
import { parseSums } from './sha256sums.js';
import { parseBundleMeta, type BundleMeta } from './meta.js';
import { sha256OfString } from '../store/hashing.js';

export type ProblemKind = 'changed' | 'missing' | 'unlisted' | 'sums-mismatch' | 'corrupt' | 'unsafe-path' | 'bad-entry' | 'bad-meta';

export interface VerifyProblem {
  kind: ProblemKind;
  path: string;
  message: string;
}

export interface Compared {
  problems: VerifyProblem[];
  /** bundle.yaml, checked; set only when it has no problem of its own. */
  meta?: BundleMeta;
  /** The format version bundle.yaml declares, even one this ks-bundle does not read. */
  formatVersion?: number;
  /** A delta's files that it lists but does not carry (path → sha256): they come from its base. */
  fromBase: Map<string, string>;
}

/**
 * Compare what a bundle holds (path → sha256 of every regular file, as read) with its own SHA256SUMS and
 * bundle.yaml. Pure: every problem is listed, not only the first.
 */
export function compareWithSums(actual: Map<string, string>, texts: { sums?: string; bundleYaml?: string }): Compared {
  const problems: VerifyProblem[] = [];
  let meta: BundleMeta | undefined;
  let formatVersion: number | undefined;
  if (texts.bundleYaml === undefined) problems.push({ kind: 'missing', path: BUNDLE_YAML, message: 'bundle.yaml is missing' });
  else {
    const parsed = parseBundleMeta(texts.bundleYaml, BUNDLE_YAML);
    meta = parsed.meta;
    formatVersion = parsed.formatVersion;
    for (const p of parsed.problems) problems.push({ kind: 'bad-meta', path: BUNDLE_YAML, message: `line ${p.line}: ${p.path ? `${p.path}: ` : ''}${p.message}` });
  }
  if (texts.sums === undefined) {
    problems.push({ kind: 'missing', path: SUMS, message: 'SHA256SUMS is missing' });
    return { problems, meta, formatVersion, fromBase: new Map() };
  }
  if (meta && meta.sha256sums !== sha256OfString(texts.sums)) {
    problems.push({ kind: 'sums-mismatch', path: SUMS, message: `SHA256SUMS does not match the sha256sums in bundle.yaml (${meta.sha256sums})` });
  }
  const { sums, badLines, duplicates } = parseSums(texts.sums);
  for (const line of badLines) problems.push({ kind: 'corrupt', path: SUMS, message: `line ${line} is not "<sha256>  <path>"` });
  for (const { path, line } of duplicates) problems.push({ kind: 'corrupt', path: SUMS, message: `line ${line} lists ${path} a second time` });
  const fromBase = new Map<string, string>();
  for (const [path, want] of sums) {
    const got = actual.get(path);
    // Only a bundle.yaml that checked out can make a listed file optional, and only by naming its base.
    if (got === undefined && meta?.base) fromBase.set(path, want);
    else if (got === undefined) problems.push({ kind: 'missing', path, message: 'listed in SHA256SUMS but not in the bundle' });
    else if (got !== want) problems.push({ kind: 'changed', path, message: `sha256 ${got}, SHA256SUMS says ${want}` });
  }
  for (const path of actual.keys()) {
    if (!sums.has(path) && !isUncovered(path)) problems.push({ kind: 'unlisted', path, message: 'in the bundle but not listed in SHA256SUMS' });
  }
  return { problems, meta, formatVersion, fromBase };
}
