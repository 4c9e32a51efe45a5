import yaml from 'js-yaml';
import { FILE_DOWNLOADS, IMAGE_REPO_DEFAULTS, type Settings } from './release.js';
import { BUNDLE_SETTINGS } from './settings.js';

export interface MirrorVarsInput {
  /** The taskbox address the nodes reach the mirror at. */
  mirrorHost: string;
  port: number;
  bundle: {
    /** Registry hosts the bundle holds images of (docker.io, registry.k8s.io, quay.io, …). */
    registries: readonly string[];
    targets: ReadonlyArray<{ os: string }>;
  };
  /** kubespray settings the bundle was built for; BUNDLE_SETTINGS by default. */
  settings?: Settings;
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

/**
 * kubespray's offline variables (docs/offline-environment.md at v2.24.3) pointing every download at the mirror, plus
 * the bundle's pinned settings, as a YAML vars file for `ansible-playbook -e @file`. Pure.
 *
 * Images keep their upstream names (`*_image_repo` are the upstream hosts): containerd on every node gets the mirror
 * as the only endpoint of each registry (`containerd_registries_mirrors`), so `registry.k8s.io/pause:3.9` is pulled as
 * `/v2/pause/manifests/3.9?ns=registry.k8s.io`, which the mirror serves by its full name. Renaming images onto
 * `registry_host` instead would lose the registry part of the name and need hosts.toml for the mirror's own address.
 */
export function renderMirrorVars(input: MirrorVarsInput): string {
  const hostPort = `${formatHost(input.mirrorHost)}:${input.port}`;
  const base = `http://${hostPort}`;
  const settings = input.settings ?? BUNDLE_SETTINGS;
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) vars[k] = v;
  vars.registry_host = hostPort;
  vars.registry_addr = hostPort;
  vars.files_repo = `${base}/files`;
  for (const [k, v] of Object.entries(IMAGE_REPO_DEFAULTS)) vars[k] = v;
  for (const f of FILE_DOWNLOADS) vars[f.urlVar] = `{{ files_repo }}/${mirrorPathOf(f.url)}`;
  const registries = [...new Set(input.bundle.registries)].sort();
  vars.containerd_registries_mirrors = registries.map((prefix) => ({
    prefix,
    mirrors: [{ host: base, capabilities: ['pull', 'resolve'], skip_verify: true }],
  }));
  const oses = [...new Set(input.bundle.targets.map((t) => t.os))].sort();
  // Only used by kubespray for docker-ce/containerd package repos; set so nothing can point outside.
  if (oses.some((o) => o.startsWith('ubuntu-'))) vars.ubuntu_repo = `${base}/apt/ubuntu-{{ ansible_distribution_version }}`;
  if (oses.some((o) => o.startsWith('debian-'))) vars.debian_repo = `${base}/apt/debian-{{ ansible_distribution_major_version }}`;
  vars.ks_bundle_apt_repos = Object.fromEntries(oses.map((o) => [o, `${base}/apt/${o}`]));
  vars.ks_bundle_pip_index_url = `${base}/pypi/simple/`;
  const header = [
    `# kubespray's offline variables: every download comes from the ks-bundle mirror ${base}`,
    '# Written by ks-bundle at install time; edit conf/vars.yml instead of this file.',
    '',
  ].join('\n');
  return header + yaml.dump(vars, { lineWidth: 200, noRefs: true, sortKeys: false, quotingType: '"', forceQuotes: false });
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
