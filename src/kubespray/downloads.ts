import { formatReference, parseReference } from '../images/reference.js';
import { renderTemplate, type Vars } from './template.js';
import { CRICTL_SUPPORTED, DEFAULT_SETTINGS, ETCD_SUPPORTED, FILE_DOWNLOADS, IMAGE_DOWNLOADS, IMAGE_REPO_DEFAULTS, VERSIONS, type Settings } from './release.js';

/** One file kubespray fetches with get_url, for one arch. */
export interface WantedFile {
  component: string;
  arch: string;
  urlVar: string;
  url: string;
}

/** One image kubespray pulls, normalised like docker (`docker.io/library/nginx:1.25.2-alpine`). */
export interface WantedImage {
  component: string;
  ref: string;
}

/**
 * kubespray's derived variables for one arch: what download.yml computes with Jinja (kube_major_version, the
 * *_supported_versions lookups, coredns_version's version test), done here in code. `overrides` are the inventory's
 * variables (the mirror vars file): they win over every default, as Ansible's precedence makes them.
 */
export function kubesprayVars(settings: Settings, arch: string, overrides: Record<string, string> = {}): Vars {
  const s = { ...DEFAULT_SETTINGS, ...settings };
  const kube_version = String(s.kube_version);
  const m = /^v(\d+)\.(\d+)\.\d+$/.exec(kube_version);
  if (!m) throw new Error(`kube_version "${kube_version}" is not of the form v1.26.15`);
  const major = `v${m[1]}.${m[2]}`;
  const etcd_version = ETCD_SUPPORTED[major];
  const crictl_version = CRICTL_SUPPORTED[major];
  if (!etcd_version || !crictl_version) throw new Error(`kubespray's defaults pin no etcd/crictl for Kubernetes ${major} (it knows ${Object.keys(ETCD_SUPPORTED).join(', ')})`);
  const calico_version = VERSIONS.calico_version!;
  const vars: Record<string, string> = {
    ...IMAGE_REPO_DEFAULTS,
    ...VERSIONS,
    kube_version,
    kubeadm_version: kube_version,
    kube_major_version: major,
    etcd_version,
    crictl_version,
    calico_ctl_version: calico_version,
    calico_cni_version: calico_version,
    calico_flexvol_version: calico_version,
    calico_policy_version: calico_version,
    calico_typha_version: calico_version,
    calico_apiserver_version: calico_version,
    coredns_version: versionAtLeast(kube_version, [1, 27, 0]) ? 'v1.10.1' : 'v1.9.3',
    image_arch: arch,
    ansible_system: 'Linux',
  };
  for (const [k, v] of Object.entries(overrides)) vars[k] = v;
  return vars;
}

/**
 * Render a template whose variables may themselves be templates (the mirror vars are: `{{ files_repo }}/…`), as
 * Ansible does lazily: only what is referenced is rendered, so a variable that needs host facts does no harm unused.
 */
export function renderDeep(template: string, vars: Vars): string {
  let out = template;
  for (let i = 0; out.includes('{{'); i++) {
    if (i === 8) throw new Error(`template "${template}" does not resolve (a cycle?)`);
    out = renderTemplate(out, vars);
  }
  return out;
}

/** Every file and image the install asks for with these settings, for these arches. */
export function kubesprayDownloads(settings: Settings, arches: readonly string[], overrides: Record<string, string> = {}): { files: WantedFile[]; images: WantedImage[] } {
  const s = { ...DEFAULT_SETTINGS, ...settings };
  const files: WantedFile[] = [];
  const images = new Map<string, WantedImage>();
  for (const arch of arches) {
    const vars = kubesprayVars(s, arch, overrides);
    for (const f of FILE_DOWNLOADS) {
      if (!f.enabled(s)) continue;
      files.push({ component: f.component, arch, urlVar: f.urlVar, url: renderDeep(vars[f.urlVar] ?? f.url, vars) });
    }
    for (const i of IMAGE_DOWNLOADS) {
      if (!i.enabled(s)) continue;
      const ref = formatReference(parseReference(`${renderDeep(i.repo, vars)}:${renderDeep(i.tag, vars)}`));
      if (!images.has(ref)) images.set(ref, { component: i.component, ref });
    }
  }
  return { files, images: [...images.values()] };
}

function versionAtLeast(v: string, min: [number, number, number]): boolean {
  const p = v.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((p[i] ?? 0) !== min[i]) return (p[i] ?? 0) > min[i]!;
  return true;
}
