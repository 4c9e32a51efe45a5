import type { BundleEntry } from '../bundle/entry.js';
import type { Lock } from '../lock/lock.js';
import { newSha256 } from '../store/hashing.js';
import type { DerivedMemo } from '../store/content-store.js';


type SbomModule = typeof import('../sbom/bundle-sbom.js');

/**
 * The bundle's SBOM, remembered in the cache under a key naming all it is made of: the lock, and every file of the
 * bundle by its digest or bytes (the CLI's own modules among them, so other code makes it anew). A second build of
 * the same bundle takes it from there and never loads the SBOM library (0.07–0.1 s of every such build).
 */
export async function bundleSbomOnce(lock: Lock, lockText: string, collected: readonly BundleEntry[], memo: DerivedMemo, load: () => Promise<SbomModule>): Promise<string> {
  const key = sbomKey(lockText, collected);
  const known = key ? await memo.recall(key) : undefined;
  if (known !== undefined) return known;
  const byPath = new Map(collected.map((e) => [e.path, e]));
  const sbom = (await load()).bundleSbom(lock, (path) => byPath.get(path)?.data?.toString('utf8'));
  if (key) await memo.remember(key, sbom);
  return sbom;
}

/** The key naming the SBOM's inputs; undefined when a file's digest is not known. Pure. */
export function sbomKey(lockText: string, collected: readonly BundleEntry[]): string | undefined {
  const h = newSha256().update('ks-bundle sbom\n').update(lockText);
  for (const e of collected) {
    if (e.data) h.update(`${e.path} data ${newSha256().update(e.data).digest('hex')}\n`);
    else if (e.sha256) h.update(`${e.path} file ${e.sha256}\n`);
    else return undefined;
  }
  return `sbom-${h.digest('hex')}`;
}
