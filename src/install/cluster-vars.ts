import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError, type Problem } from '../errors.js';
import { checkVars, KS_BUNDLE_USER_KEYS, type ParsedVars } from '../nodes/vars.js';
import type { InstallMode } from '../nodes/validate-inventory.js';
import { readKnownVars } from '../kubespray/known-vars.js';
import { mirrorRegistry } from '../kubespray/mirror-vars.js';
import type { Settings } from '../kubespray/release.js';
import { DEFAULT_CLASS_KEY, DERIVED_STORAGE_KEYS, planStorage, type StoragePlan } from '../kubespray/storage.js';
import { renderClusterConfiguration } from '../kubesphere/cluster-configuration.js';
import { kubesphereImages, throughRegistry, type KubesphereImage } from '../kubesphere/images.js';
import { scanKubernetesYaml } from '../completeness/k8s-images.js';
import type { BundleInfo } from './bundle-info.js';
import { installMirrorVars } from './mirror-vars.js';

export const KS_INSTALLER_MANIFEST = 'manifests/kubesphere-installer.yaml';
export const CLUSTER_CONFIGURATION_MANIFEST = 'manifests/cluster-configuration.yaml';

export interface KubespherePlan {
  /** The manifests applied, in order, as the bundle holds them. */
  manifests: string[];
  /** kubesphere-installer.yaml with its installer image pulled through the mirror's registry. */
  installerText: string;
  clusterConfiguration: Record<string, unknown>;
  clusterConfigurationText: string;
  images: KubesphereImage[];
  /** Components switched on beyond ks-installer's defaults: their images are not known here. */
  enabledComponents: string[];
}

/** Everything the cluster and KubeSphere steps hand on, merged and checked once. */
export interface ClusterPlan {
  /** The one vars file ansible-playbook gets: bundle defaults < the user's vars < what ks-bundle derives and owns. */
  extraVars: Record<string, unknown>;
  mirrorOwned: string[];
  storage: StoragePlan;
  /** The switches completeness reads (strings and booleans of extraVars). */
  settings: Settings;
  /** The mirror's registry, as nodes name it. */
  registry: string;
  kubesphere?: KubespherePlan;
  notes: string[];
}

export interface ClusterPlanInput {
  bundleDir: string;
  info: BundleInfo;
  parsed: ParsedVars;
  varsFile: string;
  mode: InstallMode;
  mirrorHost: string;
  port: number;
}

/**
 * Merge and check the vars against the verified bundle: kubespray's own variable list (from its tree), the mirror's
 * variables, the storage plan and the ClusterConfiguration. Every problem, from every part, is reported at once.
 */
export async function planCluster(input: ClusterPlanInput): Promise<ClusterPlan> {
  const { bundleDir, info, parsed, varsFile: file } = input;
  const kubespray = !!info.kubespray;
  const hasKubesphere = existsSync(join(bundleDir, KS_INSTALLER_MANIFEST)) && existsSync(join(bundleDir, CLUSTER_CONFIGURATION_MANIFEST));
  // KubeSphere's images are named through the mirror's registry (spec.local_registry), like kubespray's.
  const registry = mirrorRegistry(input.mirrorHost, input.port);
  const { mirrorOwned: mirror, defaults: nodeDefaults } = installMirrorVars(info, { host: input.mirrorHost, port: input.port });
  const owned = new Map<string, string>(Object.keys(mirror).map((k) => [k, 'it points at the offline mirror']));
  for (const k of DERIVED_STORAGE_KEYS) owned.set(k, `derived from ${DEFAULT_CLASS_KEY}`);
  const problems: Problem[] = [...parsed.problems];
  const at = (key: string, message: string) => problems.push({ file, line: parsed.lines.get(key) ?? 1, column: 1, path: key, message });
  if (kubespray) {
    const known = await readKnownVars(join(bundleDir, 'playbooks'));
    problems.push(...checkVars(parsed, file, { types: known.types, owned }));
  } else {
    // A playbook of the user's own: its variables are its business; only the mirror's are checked.
    problems.push(...checkVars(parsed, file, { types: new Map(Object.keys(parsed.vars).map((k) => [k, 'any' as const])), owned }));
  }

  const user = Object.fromEntries(Object.entries(parsed.vars).filter(([k]) => !KS_BUNDLE_USER_KEYS.has(k) && !owned.has(k)));
  // The bundle's settings as its bundle.yaml recorded them at build time, then node defaults, then the user's vars.
  const merged: Record<string, unknown> = { ...(info.kubespray?.settings ?? {}), ...nodeDefaults, ...user };
  const storage = planStorage({ ...merged, [DEFAULT_CLASS_KEY]: parsed.vars[DEFAULT_CLASS_KEY] }, { needDefault: hasKubesphere, allInOne: input.mode === 'all-in-one' });
  for (const p of storage.problems) at(p.key, p.message);
  const extraVars = { ...merged, ...storage.derived, ...mirror };

  let kubesphere: KubespherePlan | undefined;
  if (hasKubesphere) {
    const ccText = await readFile(join(bundleDir, CLUSTER_CONFIGURATION_MANIFEST), 'utf8');
    const cc = renderClusterConfiguration(ccText, { registry, storageClass: storage.defaultClass ?? '', userSpec: parsed.vars.ks_bundle_kubesphere });
    for (const p of cc.problems) {
      const key = p.path ? `ks_bundle_kubesphere.${p.path}` : 'ks_bundle_kubesphere';
      problems.push({ file, line: parsed.lines.get(key) ?? parsed.lines.get('ks_bundle_kubesphere') ?? 1, column: 1, path: key, message: p.message });
    }
    const installer = await readFile(join(bundleDir, KS_INSTALLER_MANIFEST), 'utf8');
    const installerImages = scanKubernetesYaml(installer).images.map((i) => ({ component: 'ks_installer', bundled: i.image, pulled: throughRegistry(i.image, registry) }));
    const images = kubesphereImages(String(extraVars.kube_version ?? ''), registry).filter((i) => !installerImages.some((x) => x.bundled === i.bundled));
    kubesphere = {
      manifests: [KS_INSTALLER_MANIFEST, CLUSTER_CONFIGURATION_MANIFEST],
      installerText: rewriteImages(installer, installerImages),
      clusterConfiguration: cc.doc,
      clusterConfigurationText: cc.text,
      images: [...installerImages, ...images],
      enabledComponents: cc.enabledComponents,
    };
  }
  if (problems.length) {
    problems.sort((a, b) => a.line - b.line);
    throw new ValidationError(file, problems, 'Edit the vars file; every problem above names its line. The README lists the variables ("vars.yml reference").');
  }
  const settings: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(extraVars)) if (typeof v === 'string' || typeof v === 'boolean') settings[k] = v;
  return { extraVars, mirrorOwned: Object.keys(mirror).concat(DERIVED_STORAGE_KEYS).sort(), storage, settings, registry, kubesphere, notes: parsed.notes };
}

/** `image: kubesphere/ks-installer:v3.4.1` → `image: <registry>/kubesphere/ks-installer:v3.4.1`, line by line. */
function rewriteImages(text: string, images: ReadonlyArray<{ bundled: string; pulled: string }>): string {
  return text.replace(/^(\s*-?\s*image:\s*)(["']?)([^"'\s#]+)\2(\s*(?:#.*)?)$/gm, (line, head: string, q: string, value: string, tail: string) => {
    const hit = images.find((i) => i.bundled === value || i.bundled === `docker.io/${value}` || i.bundled === `docker.io/library/${value}`);
    return hit ? `${head}${q}${hit.pulled}${q}${tail}` : line;
  });
}
