import { readFile } from 'node:fs/promises';
import type { BundleEntry } from '../bundle/entry.js';
import { KsBundleError } from '../errors.js';
import type { Manifest } from '../manifest/types.js';
import type { OnProgress } from '../progress/events.js';
import { kubesprayOfBuild } from '../kubespray/settings.js';
import type { Settings } from '../kubespray/release.js';
import type { BundleMeta } from '../bundle/meta.js';
import { checkCompleteness, formatMissing, type BundleView, type CompletenessResult } from './check.js';
import { viewOfBundleDir, viewOfManifest } from './bundle-view.js';
import { refNamesOfIndex } from '../images/layout.js';


/** Kubespray's downloads are checked when the bundle's playbooks are kubespray (bundle.yaml says so). */
export function completenessOptions(kubespray: { settings: Settings } | undefined) {
  return kubespray ? { kubespray: { settings: kubespray.settings } } : {};
}

/** The check on a build about to be written: the manifest's pins plus the bundled Kubernetes YAML's text. */
export async function checkBuild(manifest: Manifest, entries: BundleEntry[]): Promise<CompletenessResult> {
  const texts = new Map<string, string>();
  for (const e of entries) {
    if (!e.path.startsWith('manifests/') || !/\.ya?ml$/.test(e.path)) continue;
    // Kubernetes YAML is small text; it is read whole to be scanned.
    texts.set(e.path.slice('manifests/'.length), e.data ? e.data.toString('utf8') : await readFile(e.file!, 'utf8'));
  }
  return checkCompleteness(viewOfManifest(manifest, texts), completenessOptions(kubesprayOfBuild(entries.map((e) => e.path))));
}

/** The same view from what a stream verify kept: file paths, index.json and the manifests' text. */
export function viewOfRead(paths: Iterable<string>, texts: ReadonlyMap<string, string>, arches: readonly string[]): BundleView {
  const index = texts.get('repos/images/index.json');
  const images = index ? refNamesOfIndex(index) : [];
  const all = [...paths];
  return {
    images,
    files: all.filter((p) => p.startsWith('repos/files/')),
    manifests: [...texts].filter(([p]) => p.startsWith('manifests/')).map(([path, text]) => ({ path, text })),
    arches,
  };
}

/** Which small files a stream verify keeps for the check. */
export function keptForCompleteness(rel: string): boolean {
  return rel === 'repos/images/index.json' || (rel.startsWith('manifests/') && /\.ya?ml$/.test(rel));
}

/** Fail listing what is missing, or with --allow-missing only warn. Warnings are reported either way. */
export function enforce(result: CompletenessResult, where: string, allowMissing: boolean, onProgress: OnProgress): void {
  for (const w of result.warnings) onProgress({ type: 'log', level: 'warn', message: w });
  if (!result.missing.length) return;
  const lines = formatMissing(result.missing);
  if (allowMissing) {
    onProgress({ type: 'log', level: 'warn', message: `${where}: ${result.missing.length} thing(s) the install will ask for are not in the bundle (--allow-missing):\n${lines.join('\n')}` });
    return;
  }
  throw new KsBundleError('FAILED', `${where}: the install would ask for ${result.missing.length} thing(s) the bundle does not hold:\n${lines.map((l) => '  ' + l).join('\n')}`, {
    hint: 'Add them to the manifest (spec.images / spec.files) and build again, or pass --allow-missing to accept the gap.',
  });
}

/**
 * The check on an unpacked, verified bundle, before install: with the settings the install will use (the bundle's
 * recorded settings merged with the user's vars), or the bundle's settings alone.
 */
export async function checkBundleDir(dir: string, meta: BundleMeta, opts?: { settings?: Settings; kubesphereComponents?: readonly string[] }): Promise<CompletenessResult> {
  const arches = [...new Set(meta.targets.map((t) => t.arch))];
  const kubespray = meta.kubespray && { settings: opts?.settings ?? meta.kubespray.settings };
  return checkCompleteness(await viewOfBundleDir(dir, arches), { ...completenessOptions(kubespray), kubesphereComponents: opts?.kubesphereComponents });
}
