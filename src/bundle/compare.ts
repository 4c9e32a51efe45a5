import yaml from 'js-yaml';
import { BUNDLE_YAML, SUMS, isUncovered } from './layout.js';
import { parseSums } from './sha256sums.js';
import { sha256OfString } from '../store/hashing.js';

export type ProblemKind = 'changed' | 'missing' | 'unlisted' | 'sums-mismatch' | 'corrupt' | 'unsafe-path' | 'bad-entry';

export interface VerifyProblem {
  kind: ProblemKind;
  path: string;
  message: string;
}

export interface BundleMeta {
  formatVersion?: number;
  name?: string;
  version?: string;
  sha256sums?: string;
  [key: string]: unknown;
}

/**
 * Compare what a bundle holds (path → sha256 of every regular file, as read) with its own SHA256SUMS and
 * bundle.yaml. Pure: every problem is listed, not only the first.
 */
export function compareWithSums(actual: Map<string, string>, texts: { sums?: string; bundleYaml?: string }): { problems: VerifyProblem[]; meta?: BundleMeta } {
  const problems: VerifyProblem[] = [];
  let meta: BundleMeta | undefined;
  if (texts.bundleYaml === undefined) problems.push({ kind: 'missing', path: BUNDLE_YAML, message: 'bundle.yaml is missing' });
  else {
    try {
      meta = yaml.load(texts.bundleYaml, { schema: yaml.CORE_SCHEMA }) as BundleMeta;
    } catch (err: any) {
      problems.push({ kind: 'corrupt', path: BUNDLE_YAML, message: `bundle.yaml is not YAML: ${err.reason ?? err.message}` });
    }
  }
  if (texts.sums === undefined) {
    problems.push({ kind: 'missing', path: SUMS, message: 'SHA256SUMS is missing' });
    return { problems, meta };
  }
  if (meta && meta.sha256sums !== sha256OfString(texts.sums)) {
    problems.push({ kind: 'sums-mismatch', path: SUMS, message: `SHA256SUMS does not match the sha256sums in bundle.yaml (${meta.sha256sums ?? 'none'})` });
  }
  const { sums, badLines } = parseSums(texts.sums);
  for (const line of badLines) problems.push({ kind: 'corrupt', path: SUMS, message: `line ${line} is not "<sha256>  <path>"` });
  for (const [path, want] of sums) {
    const got = actual.get(path);
    if (got === undefined) problems.push({ kind: 'missing', path, message: 'listed in SHA256SUMS but not in the bundle' });
    else if (got !== want) problems.push({ kind: 'changed', path, message: `sha256 ${got}, SHA256SUMS says ${want}` });
  }
  for (const path of actual.keys()) {
    if (!sums.has(path) && !isUncovered(path)) problems.push({ kind: 'unlisted', path, message: 'in the bundle but not listed in SHA256SUMS' });
  }
  return { problems, meta };
}
