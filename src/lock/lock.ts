import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { InputError } from '../errors.js';
import { loadYamlLimited, YamlLimitError } from '../util/yaml.js';
import type { LockEntry } from './entry.js';

export interface Lock {
  apiVersion: 'ks-bundle/v1';
  kind: 'BundleLock';
  manifest: { name: string; version: string; sha256: string };
  /** A delta's base: the bundle it was built against, by name, version and root digest (sha256 of its SHA256SUMS). */
  base?: { name: string; version: string; sha256sums: string };
  artifacts: LockEntry[];
  /**
   * The bundle this lock was written beside, by its root digest: only in `<bundle>.lock.yaml` (a lock inside a bundle
   * cannot hold the digest that covers it), so that `build --since <bundle>.lock.yaml` can name its base.
   */
  bundle?: { name: string; version: string; sha256sums: string };
}

const KIND_ORDER: LockEntry['kind'][] = ['runtime', 'file', 'manifest', 'playbooks', 'image', 'blob', 'deb', 'wheel', 'index'];

const DUMP = { lineWidth: 200, noRefs: true, sortKeys: false };

/** Sorted, with no timestamps: the same resolution gives the same bytes, and the lock travels inside the bundle. */
export function renderLock(lock: Lock): string {
  const artifacts = [...lock.artifacts].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const clean = artifacts.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));
  return yaml.dump({ ...lock, artifacts: clean }, DUMP);
}

/**
 * `<bundle>.lock.yaml`: the text renderLock gave for a lock without `bundle`, with `bundle` added, as renderLock would
 * give it (its last key) without rendering every artifact a second time (a tenth of a second for 1,500).
 */
export function renderLockBeside(lockText: string, bundle: NonNullable<Lock['bundle']>): string {
  return lockText + yaml.dump({ bundle }, DUMP);
}

export function parseLock(text: string, file: string): Lock {
  let doc: any;
  try {
    doc = loadYamlLimited(text, { filename: file, limits: { maxBytes: 256 * 1024 * 1024, maxNodes: 5_000_000 } });
  } catch (err) {
    if (!(err instanceof YamlLimitError)) throw err;
    throw new InputError(`${file}:${err.line}:${err.column}: not a lock file: ${err.message}`);
  }
  if (doc?.kind !== 'BundleLock' || !Array.isArray(doc.artifacts)) throw new InputError(`${file}: not a ks-bundle lock (kind: BundleLock with artifacts)`);
  return doc as Lock;
}

export async function readLock(file: string): Promise<Lock> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError(`${file}: no lock file to build from`, { hint: 'Build once without --locked to write it.' });
  }
  return parseLock(text, file);
}

/** What differs between two locks, one line each, for `--locked` failures. */
export function diffLocks(want: LockEntry[], got: LockEntry[]): string[] {
  const key = (e: LockEntry) => `${e.kind} ${e.name}`;
  const a = new Map(want.map((e) => [key(e), e]));
  const b = new Map(got.map((e) => [key(e), e]));
  const out: string[] = [];
  for (const [k, e] of a) {
    const g = b.get(k);
    if (!g) out.push(`- ${k} (in the lock, not built)`);
    else if (g.sha256 !== e.sha256) out.push(`~ ${k}: lock ${e.sha256}, built ${g.sha256}`);
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`+ ${k} (built, not in the lock)`);
  return out;
}
