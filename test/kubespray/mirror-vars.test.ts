import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { kubesprayDownloads, kubesprayVars } from '../../src/kubespray/downloads.js';
import { renderMirrorVars } from '../../src/kubespray/mirror-vars.js';
import { FILE_DOWNLOADS } from '../../src/kubespray/release.js';
import { BUNDLE_SETTINGS } from '../../src/kubespray/settings.js';
import { renderTemplate } from '../../src/kubespray/template.js';
import { parseReference } from '../../src/images/reference.js';
import { loadManifest } from '../../src/manifest/load.js';
import { useSiteMirrors } from '../support/site-mirrors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
useSiteMirrors();

async function render() {
  const m = await loadManifest(join(root, 'manifests/kubesphere.yaml'));
  const registries = [...new Set(m.images.map((i) => parseReference(i).registry))];
  const text = renderMirrorVars({ mirrorHost: '10.0.0.1', port: 5080, bundle: { registries, targets: m.targets } });
  return { m, registries, text, vars: yaml.load(text) as Record<string, any> };
}

describe('renderMirrorVars for the kubesphere manifest, taskbox 10.0.0.1:5080', () => {
  it('points files, registry and package sources at the mirror', async () => {
    const { vars } = await render();
    expect(vars.files_repo).toBe('http://10.0.0.1:5080/files');
    expect(vars.registry_host).toBe('10.0.0.1:5080');
    expect(vars.registry_addr).toBe('10.0.0.1:5080');
    expect(vars.kube_version).toBe('v1.26.15');
    // Images keep their upstream names; containerd sends them to the mirror with ?ns=<registry>.
    expect(vars).toMatchObject({ kube_image_repo: 'registry.k8s.io', docker_image_repo: 'docker.io', quay_image_repo: 'quay.io', gcr_image_repo: 'gcr.io', github_image_repo: 'ghcr.io' });
    expect(vars.ubuntu_repo).toBe('http://10.0.0.1:5080/apt/ubuntu-{{ ansible_distribution_version }}');
    expect(vars.debian_repo).toBe('http://10.0.0.1:5080/apt/debian-{{ ansible_distribution_major_version }}');
    expect(vars.ks_bundle_apt_repos).toEqual({ 'debian-12': 'http://10.0.0.1:5080/apt/debian-12', 'ubuntu-22.04': 'http://10.0.0.1:5080/apt/ubuntu-22.04', 'ubuntu-24.04': 'http://10.0.0.1:5080/apt/ubuntu-24.04' });
    expect(vars.ks_bundle_pip_index_url).toBe('http://10.0.0.1:5080/pypi/simple/');
  });

  it('gives containerd the mirror as the only endpoint of every registry the bundle holds images of', async () => {
    const { vars, registries } = await render();
    expect(vars.containerd_registries_mirrors.map((r: any) => r.prefix)).toEqual([...registries].sort());
    expect(registries.sort()).toEqual(['docker.io', 'quay.io', 'registry.k8s.io']);
    for (const r of vars.containerd_registries_mirrors) {
      expect(r.mirrors).toEqual([{ host: 'http://10.0.0.1:5080', capabilities: ['pull', 'resolve'], skip_verify: true }]);
    }
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
    const v6 = renderMirrorVars({ mirrorHost: 'fd00::1', port: 5080, bundle: { registries: ['docker.io'], targets: [{ os: 'debian-12' }] } });
    expect((yaml.load(v6) as any).files_repo).toBe('http://[fd00::1]:5080/files');
  });
});
