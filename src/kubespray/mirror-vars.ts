import { formatReference, parseReference } from '../images/reference.js';
import { FILE_DOWNLOADS, IMAGE_REPO_DEFAULTS } from './release.js';

export interface MirrorVarsInput {
  /** The taskbox address the nodes reach the mirror at. */
  mirrorHost: string;
  port: number;
  bundle: {
    targets: ReadonlyArray<{ os: string }>;
  };
}

/** The variables ks-bundle hands kubespray for an offline install, by who may change them. */
export interface KubesprayMirrorVars {
  /**
   * What points kubespray at the mirror: every `*_download_url`, every `*_image_repo` and containerd's registry
   * wiring. A user who sets one of these breaks the offline install, so they are ks-bundle's alone.
   */
  mirrorOwned: Record<string, unknown>;
  /** What the nodes need that kubespray v2.24.3 gets wrong by default; conf/vars.yml may still set them. */
  nodeDefaults: Record<string, unknown>;
}

/**
 * Where a file kubespray downloads lives under the mirror's /files/ (and the bundle's repos/files/): its upstream URL
 * without the scheme, `dl.k8s.io/release/v1.26.15/bin/linux/amd64/kubeadm`. Kubespray's offline doc leaves the layout
 * under `files_repo` free; mirroring the upstream paths keeps every `*_download_url` a one-line rewrite of kubespray's
 * own default and keeps names unique across versions and arches.
 */
export function mirrorPathOf(upstreamUrl: string): string {
  const m = /^https?:\/\/(.+)$/.exec(upstreamUrl);
  if (!m) throw new Error(`${upstreamUrl}: not an http(s) URL`);
  return m[1]!;
}

/** `10.0.0.1:5080`, `[fd00::1]:5080`: the mirror as an image registry host. */
export function mirrorRegistry(mirrorHost: string, port: number): string {
  return `${mirrorHost.includes(':') && !mirrorHost.startsWith('[') ? `[${mirrorHost}]` : mirrorHost}:${port}`;
}

/** The name a node pulls an upstream image by: `registry.k8s.io/pause:3.9` → `10.0.0.1:5080/registry.k8s.io/pause:3.9`. */
export function nodeImageName(upstreamRef: string, registry: string): string {
  return `${registry}/${formatReference(parseReference(upstreamRef))}`;
}

/**
 * The upstream image a node-side name stands for (`10.0.0.1:5080/quay.io/calico/node:v3.26.4` →
 * `quay.io/calico/node:v3.26.4`), or undefined when the name does not go to the mirror at `registry`.
 */
export function upstreamImageOf(nodeRef: string, registry: string): string | undefined {
  const r = parseReference(nodeRef);
  if (r.registry !== registry) return undefined;
  return formatReference(parseReference(r.repo + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '')));
}

/**
 * kubespray v2.24.3's own variables for an offline install from the mirror (docs/offline-environment.md: files from
 * `files_repo`, images from `registry_host`). Pure.
 *
 * Images: every `*_image_repo` is the mirror with the upstream registry as the first path component
 * (`10.0.0.1:5080/registry.k8s.io`), which the mirror's /v2/ resolves by full name. containerd then talks to one
 * registry only, the mirror, and kubespray's containerd role is the single owner of its configuration:
 * `containerd_registries_mirrors` holds the mirror alone, so the `certs.d/<mirror>/hosts.toml` kubespray writes has the
 * mirror as its `[host]` and as its `server` (hosts.toml.j2 always writes `server = "https://<prefix>"`; for an
 * upstream prefix such as docker.io that server is a fallback to the internet on every miss, which is why the upstream
 * names are not wired). `containerd_use_config_path` makes the CRI read the same certs.d that kubespray's
 * `ctr --hosts-dir` pulls and nerdctl read, instead of the legacy `registry.mirrors`.
 */
export function kubesprayMirrorVars(input: MirrorVarsInput): KubesprayMirrorVars {
  const registry = mirrorRegistry(input.mirrorHost, input.port);
  const base = `http://${registry}`;
  const owned: Record<string, unknown> = {};
  owned.files_repo = `${base}/files`;
  for (const f of FILE_DOWNLOADS) owned[f.urlVar] = `{{ files_repo }}/${mirrorPathOf(f.url)}`;
  owned.registry_host = registry;
  for (const [k, upstream] of Object.entries(IMAGE_REPO_DEFAULTS)) owned[k] = `${registry}/${upstream}`;
  owned.containerd_use_config_path = true;
  owned.containerd_registries_mirrors = [{ prefix: registry, mirrors: [{ host: base, capabilities: ['pull', 'resolve'], skip_verify: false }] }];
  const oses = [...new Set(input.bundle.targets.map((t) => t.os))].sort();
  owned.ks_bundle_apt_repos = Object.fromEntries(oses.map((o) => [o, `${base}/apt/${o}`]));
  owned.ks_bundle_pip_index_url = `${base}/pypi/simple/`;
  return { mirrorOwned: owned, nodeDefaults: nodeDefaults() };
}

/**
 * kubelet's resolv.conf. kubespray v2.24.3 picks /run/systemd/resolve/resolv.conf only on the Ubuntu releases it has a
 * vars file for (18, 20, 22; roles/kubernetes/node/vars/), so on Ubuntu 24.04 kubelet hands pods the systemd-resolved
 * stub (127.0.0.53) and CoreDNS, forwarding to it from inside its pod, loops. The right file depends on whether
 * systemd-resolved runs, which kubespray's preinstall role registers on every host (`systemd_resolved_enabled`, the
 * rc of `systemctl is-active systemd-resolved`) before the node role reads this; when that task did not run, Ubuntu
 * (where it is on by default) gets the real file as kubespray's vars would give it.
 */
const KUBE_RESOLV_CONF =
  "{{ '/run/systemd/resolve/resolv.conf' if (systemd_resolved_enabled.rc | default(0 if ansible_distribution == 'Ubuntu' else 1)) == 0 else '/etc/resolv.conf' }}";

function nodeDefaults(): Record<string, unknown> {
  return { kube_resolv_conf: KUBE_RESOLV_CONF };
}
