import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { kubesprayDownloads, kubesprayVars } from '../../src/kubespray/downloads.js';
import { kubesprayMirrorVars, nodeImageName, upstreamImageOf } from '../../src/kubespray/mirror-vars.js';
import { FILE_DOWNLOADS } from '../../src/kubespray/release.js';
import { BUNDLE_SETTINGS } from '../../src/kubespray/settings.js';
import { renderTemplate } from '../../src/kubespray/template.js';
import { loadManifest } from '../../src/manifest/load.js';
import { useSiteMirrors } from '../support/site-mirrors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
useSiteMirrors();

async function render() {
  const m = await loadManifest(join(root, 'manifests/kubesphere.yaml'));
  const { mirrorOwned, nodeDefaults } = kubesprayMirrorVars({ mirrorHost: '10.0.0.1', port: 5080, bundle: { targets: m.targets } });
  // As the installer's vars file holds them: the bundle's settings, the node defaults, the mirror's own over both.
  const vars = { ...BUNDLE_SETTINGS, ...nodeDefaults, ...mirrorOwned } as Record<string, any>;
  return { m, text: yaml.dump(vars, { lineWidth: 200 }), vars };
}

describe('kubesprayMirrorVars for the kubesphere manifest, taskbox 10.0.0.1:5080', () => {
  it('points files, images and package sources at the mirror', async () => {
    const { vars } = await render();
    expect(vars.files_repo).toBe('http://10.0.0.1:5080/files');
    expect(vars.registry_host).toBe('10.0.0.1:5080');
    expect(vars.kube_version).toBe('v1.26.15');
    // Image names go to the mirror, the upstream registry kept as the first path component.
    expect(vars).toMatchObject({
      kube_image_repo: '10.0.0.1:5080/registry.k8s.io',
      docker_image_repo: '10.0.0.1:5080/docker.io',
      quay_image_repo: '10.0.0.1:5080/quay.io',
      gcr_image_repo: '10.0.0.1:5080/gcr.io',
      github_image_repo: '10.0.0.1:5080/ghcr.io',
    });
    // kubespray reads none of these; they must not come back.
    for (const k of ['registry_addr', 'ubuntu_repo', 'debian_repo']) expect(vars).not.toHaveProperty(k);
    expect(vars.ks_bundle_apt_repos).toEqual({ 'debian-12': 'http://10.0.0.1:5080/apt/debian-12', 'ubuntu-22.04': 'http://10.0.0.1:5080/apt/ubuntu-22.04', 'ubuntu-24.04': 'http://10.0.0.1:5080/apt/ubuntu-24.04' });
    expect(vars.ks_bundle_pip_index_url).toBe('http://10.0.0.1:5080/pypi/simple/');
  });

  it('gives containerd one registry, the mirror, read by the CRI and ctr alike through certs.d', async () => {
    const { vars } = await render();
    expect(vars.containerd_use_config_path).toBe(true);
    expect(vars.containerd_registries_mirrors).toEqual([{ prefix: '10.0.0.1:5080', mirrors: [{ host: 'http://10.0.0.1:5080', capabilities: ['pull', 'resolve'], skip_verify: false }] }]);
  });

  it('sends every image kubespray pulls, for any network plugin, to the mirror under its upstream name', () => {
    const { mirrorOwned } = kubesprayMirrorVars({ mirrorHost: '10.0.0.1', port: 5080, bundle: { targets: [] } });
    const strings = Object.fromEntries(Object.entries(mirrorOwned).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    for (const plugin of ['calico', 'flannel']) {
      const images = kubesprayDownloads({ ...BUNDLE_SETTINGS, kube_network_plugin: plugin }, ['amd64'], strings).images;
      for (const i of images) {
        expect(i.ref.startsWith('10.0.0.1:5080/'), i.ref).toBe(true);
        expect(nodeImageName(upstreamImageOf(i.ref, '10.0.0.1:5080')!, '10.0.0.1:5080')).toBe(i.ref);
      }
      expect(images.map((i) => i.ref)).toContain(plugin === 'flannel' ? '10.0.0.1:5080/docker.io/flannel/flannel:v0.22.0' : '10.0.0.1:5080/quay.io/calico/node:v3.26.4');
    }
    expect(upstreamImageOf('10.0.0.1:5080/registry.k8s.io/pause:3.9', '10.0.0.1:5080')).toBe('registry.k8s.io/pause:3.9');
    expect(upstreamImageOf('10.0.0.1:5080/kubesphere/ks-apiserver:v3.4.1', '10.0.0.1:5080')).toBe('docker.io/kubesphere/ks-apiserver:v3.4.1');
    expect(upstreamImageOf('registry.k8s.io/pause:3.9', '10.0.0.1:5080')).toBeUndefined();
  });

  it('keeps kube_resolv_conf out of the mirror-owned keys (conf/vars.yml may set it)', () => {
    const { mirrorOwned, nodeDefaults } = kubesprayMirrorVars({ mirrorHost: '10.0.0.1', port: 5080, bundle: { targets: [] } });
    expect(Object.keys(nodeDefaults)).toEqual(['kube_resolv_conf']);
    expect(mirrorOwned).not.toHaveProperty('kube_resolv_conf');
  });

  it('turns every *_download_url into a file the manifest bundles at that path, for each arch', async () => {
    const { m, vars } = await render();
    const names = new Set(m.files.map((f) => f.name));
    const urlVars = Object.keys(vars).filter((k) => k.endsWith('_download_url'));
    expect(urlVars.sort()).toEqual(FILE_DOWNLOADS.map((f) => f.urlVar).sort());
    const strings = Object.fromEntries(Object.entries(vars).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const enabled = new Set(kubesprayDownloads(BUNDLE_SETTINGS, ['amd64']).files.map((f) => f.urlVar));
    for (const arch of ['amd64', 'arm64']) {
      const resolved = kubesprayVars(BUNDLE_SETTINGS, arch, strings);
      for (const v of urlVars) {
        // Rendered the way Ansible would: the vars file's template against kubespray's variables and the file's own.
        const url = renderTemplate(renderTemplate(strings[v]!, resolved), resolved);
        expect(url.startsWith('http://10.0.0.1:5080/files/'), url).toBe(true);
        const name = url.slice('http://10.0.0.1:5080/files/'.length);
        if (enabled.has(v)) expect(names.has(name), `${v} (${arch}) → ${name}`).toBe(true);
      }
    }
  });

  it('is valid YAML with no mirror host but the one given', async () => {
    const { text } = await render();
    const hosts = [...text.matchAll(/https?:\/\/([^/\s"]+)/g)].map((x) => x[1]);
    expect(new Set(hosts)).toEqual(new Set(['10.0.0.1:5080']));
    const v6 = kubesprayMirrorVars({ mirrorHost: 'fd00::1', port: 5080, bundle: { targets: [{ os: 'debian-12' }] } }).mirrorOwned as any;
    expect(v6.files_repo).toBe('http://[fd00::1]:5080/files');
    expect(v6.kube_image_repo).toBe('[fd00::1]:5080/registry.k8s.io');
  });
});
