import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LAYOUT_DIR, refNamesOfIndex } from '../images/layout.js';
import type { Manifest } from '../manifest/types.js';
import type { BundleView } from './check.js';


/**
 * The view of a build that is about to be written: images and files as the manifest pins them, and the text of the
 * Kubernetes YAML it bundles (the caller reads it from the downloaded blobs: `manifests` maps spec.manifests names
 * to their text). Pure.
 */
export function viewOfManifest(manifest: Manifest, manifests: ReadonlyMap<string, string>): BundleView {
  return {
    images: manifest.images,
    files: manifest.files.map((f) => `repos/files/${f.name}`),
    manifests: manifest.manifests.filter((f) => manifests.has(f.name)).map((f) => ({ path: `manifests/${f.name}`, text: manifests.get(f.name)! })),
    arches: [...new Set(manifest.targets.map((t) => t.arch))].sort(),
  };
}

/** The view of an unpacked bundle (for verify and before install): index.json's names, repos/files, manifests/. */
export async function viewOfBundleDir(bundleDir: string, arches: readonly string[]): Promise<BundleView> {
  const images: string[] = [];
  try {
    images.push(...refNamesOfIndex(await readFile(join(bundleDir, LAYOUT_DIR, 'index.json'), 'utf8')));
  } catch (err: any) {
    if (err.code !== 'ENOENT') throw err;
  }
  const files = (await walk(join(bundleDir, 'repos/files'))).map((p) => `repos/files/${p}`);
  const manifests: Array<{ path: string; text: string }> = [];
  for (const p of await walk(join(bundleDir, 'manifests'))) {
    if (/\.ya?ml$/.test(p)) manifests.push({ path: `manifests/${p}`, text: await readFile(join(bundleDir, 'manifests', p), 'utf8') });
  }
  return { images, files, manifests, arches };
}

/** Relative paths of the regular files under dir; none when dir is absent. Links are not followed. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(dir, prefix), { withFileTypes: true });
  } catch (err: any) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}
