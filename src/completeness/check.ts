import { formatReference, parseReference } from '../images/reference.js';
import { kubesprayDownloads } from '../kubespray/downloads.js';
import { kubesprayMirrorVars, mirrorRegistry, upstreamImageOf } from '../kubespray/mirror-vars.js';
import type { Settings } from '../kubespray/release.js';
import { scanKubernetesYaml } from './k8s-images.js';
import { kubesphereMinimalImages } from './kubesphere.js';

/** What a bundle holds, as the check needs it. Paths are bundle paths (`repos/files/…`, `manifests/…`). */
export interface BundleView {
  /** Image references in the bundle, in any form docker accepts; a digest suffix is ignored. */
  images: readonly string[];
  files: readonly string[];
  /** Kubernetes YAML the install applies, with its text. */
  manifests: ReadonlyArray<{ path: string; text: string }>;
  /** Target arches (kubespray's image_arch). */
  arches: readonly string[];
}

export interface CompletenessOptions {
  /** The bundle installs with kubespray with these settings: check its downloads through the mirror vars. */
  kubespray?: { settings: Settings };
  /** KubeSphere components switched on beyond ks-installer's minimal install (`devops`, `logging`, …). */
  kubesphereComponents?: readonly string[];
}

export interface Missing {
  image?: string;
  file?: string;
  /** A KubeSphere component whose images ks-bundle does not know, so no bundle can be checked to hold them. */
  component?: string;
  /** The file that asks for it, and what in it. */
  wantedBy: string;
}

export interface CompletenessResult {
  missing: Missing[];
  /** Things that could not be checked (an `image:` that is not a reference): reported, not counted as missing. */
  warnings: string[];
  /** How much was checked, for the report line. */
  checked: { images: number; files: number };
  /** Every image the install will pull, normalised, in the order first asked for. */
  wanted: string[];
}

const KUBESPRAY_DOWNLOADS = 'playbooks/roles/kubespray-defaults/defaults/main/download.yml';
const KS_INSTALLER_IMAGE = 'docker.io/kubesphere/ks-installer';
const LOCAL_PATH_CM = 'playbooks/roles/kubernetes-apps/external_provisioner/local_path_provisioner/templates/local-path-storage-cm.yml.j2';
// Any address will do: the check only compares the paths below files_repo and the names below the mirror's registry.
const PROBE_HOST = '192.0.2.1';
const PROBE_PORT = 5080;

/**
 * Everything the install will ask for, compared with what the bundle holds: the `image:` fields of the bundled
 * Kubernetes YAML; the images KubeSphere's installer pulls when its installer is among them; and, for a kubespray
 * install, every file and image kubespray downloads, with its URLs taken from the mirror vars the installer writes
 * (so a vars file pointing at a path the bundle lacks is caught here, not on the target). Pure.
 */
export function checkCompleteness(bundle: BundleView, opts: CompletenessOptions = {}): CompletenessResult {
  const have = new Set(bundle.images.map(nameAndTag));
  const files = new Set(bundle.files);
  const wanted = new Map<string, string>();
  const missing: Missing[] = [];
  const warnings: string[] = [];
  const want = (image: string, wantedBy: string) => {
    if (!wanted.has(image)) wanted.set(image, wantedBy);
  };

  let kubeVersion: string | undefined = opts.kubespray ? String(opts.kubespray.settings.kube_version ?? '') || undefined : undefined;
  for (const m of bundle.manifests) {
    let scan;
    try {
      scan = scanKubernetesYaml(m.text);
    } catch (err) {
      warnings.push(`${m.path}: not YAML, its images were not checked (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    for (const i of scan.images) want(i.image, `${m.path} (${i.object})`);
    for (const i of scan.invalid) warnings.push(`${m.path} (${i.object}): image "${i.value}" cannot be checked: ${i.why}`);
    const installer = scan.images.find((i) => i.image.startsWith(KS_INSTALLER_IMAGE + ':'));
    if (installer) {
      for (const k of kubesphereMinimalImages(kubeVersion ?? 'v1.26.0')) {
        want(k.ref, `${m.path} (${installer.object}: ks-installer's roles/download/defaults/main.yml, ${k.component})`);
      }
    }
  }

  let fileCount = 0;
  if (opts.kubespray) {
    const overrides = stringVars(kubesprayMirrorVars({ mirrorHost: PROBE_HOST, port: PROBE_PORT, bundle: { targets: [] } }).mirrorOwned);
    const registry = mirrorRegistry(PROBE_HOST, PROBE_PORT);
    const filesRepo = overrides.files_repo!;
    const d = kubesprayDownloads(opts.kubespray.settings, bundle.arches, overrides);
    for (const f of d.files) {
      fileCount++;
      const wantedBy = `${KUBESPRAY_DOWNLOADS} (downloads.${f.component}, ${f.urlVar}, ${f.arch})`;
      if (!f.url.startsWith(filesRepo + '/')) {
        missing.push({ file: f.url, wantedBy: `${wantedBy}: the URL is outside the mirror's files_repo` });
        continue;
      }
      const path = `repos/files/${f.url.slice(filesRepo.length + 1)}`;
      if (!files.has(path)) missing.push({ file: path, wantedBy });
    }
    for (const i of d.images) {
      const wantedBy = `${KUBESPRAY_DOWNLOADS} (downloads.${i.component})`;
      const upstream = upstreamImageOf(i.ref, registry);
      if (upstream) want(upstream, wantedBy);
      else missing.push({ image: i.ref, wantedBy: `${wantedBy}: the image is outside the mirror's registry` });
    }
    if (opts.kubespray.settings.local_path_provisioner_enabled === true) {
      // Not a download of kubespray's: the provisioner's helper pod, named in its ConfigMap; the install points its
      // repo at the mirror's copy of Docker Hub's busybox (install/mirror-vars.ts).
      want(`docker.io/library/busybox:${opts.kubespray.settings.local_path_provisioner_helper_image_tag ?? 'latest'}`, `${LOCAL_PATH_CM} (local_path_provisioner_helper_image_tag)`);
    }
  }
  for (const c of opts.kubesphereComponents ?? []) missing.push({ component: c, wantedBy: `ks_bundle_kubesphere.${c}.enabled: true (ks-installer's ClusterConfiguration)` });

  for (const [image, wantedBy] of wanted) if (!have.has(nameAndTag(image))) missing.push({ image, wantedBy });
  return { missing, warnings, checked: { images: wanted.size, files: fileCount }, wanted: [...wanted.keys()].map(nameAndTag) };
}

/** One line per missing thing, for errors and warnings. */
export function formatMissing(missing: readonly Missing[]): string[] {
  return missing.map((m) =>
    m.component ? `KubeSphere component ${m.component}: its images are not known to ks-bundle, so the bundle cannot be checked to hold them; wanted by ${m.wantedBy}` : `${m.image ? `image ${m.image}` : `file ${m.file}`}, wanted by ${m.wantedBy}`,
  );
}

function nameAndTag(ref: string): string {
  const r = parseReference(ref);
  return formatReference(r.tag ? { ...r, digest: undefined } : r);
}

function stringVars(vars: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) if (typeof v === 'string') out[k] = v;
  return out;
}
