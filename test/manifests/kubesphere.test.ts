import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SITE_MIRRORS, useSiteMirrors } from '../support/site-mirrors.js';
import { parseLock } from '../../src/lock/lock.js';
import { checkCompleteness, viewOfManifest } from '../../src/completeness/index.js';
import { kubesprayDownloads } from '../../src/kubespray/downloads.js';
import { mirrorPathOf } from '../../src/kubespray/mirror-vars.js';
import { BUNDLE_SETTINGS } from '../../src/kubespray/settings.js';
import { loadManifest } from '../../src/manifest/load.js';
import { sha256sum } from '../support/sha256sum.js';
import { execFileSync } from 'node:child_process';
import { sourcesOf } from '../../src/manifest/alternates.js';
import { formatReference, parseReference } from '../../src/images/reference.js';
import { KS_INSTALLER_TARBALL, unpackUpstream } from '../support/upstream.js';
import { requireTools } from '../support/tools.js';
import { readKeyring } from '../../src/apt/pgp.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const manifestFile = join(root, 'manifests/kubesphere.yaml');
const installerFixture = join(root, 'test/completeness/fixtures/ks-installer.yaml');

useSiteMirrors();

describe('manifests/kubesphere.yaml', () => {
  const withoutSiteMirrors = async <T>(f: () => Promise<T>): Promise<T> => {
    const saved = { ...process.env };
    for (const k of Object.keys(SITE_MIRRORS)) delete process.env[k];
    try {
      return await f();
    } finally {
      Object.assign(process.env, saved);
    }
  };

  it("needs no setup: public archives and PyPI by default, Debian from the build machine's own apt", async () => {
    const buildMachine = { urls: { debian: 'http://debian.build-machine.test/debian', 'debian-security': 'http://debian.build-machine.test/debian-security' }, why: {} };
    const m = await withoutSiteMirrors(() => loadManifest(manifestFile, { buildMachine }));
    const urlOf = (name: string) => m.apt!.sources.find((s) => s.name === name)!.url;
    expect(m.pip!.index).toBe('https://pypi.org/simple/');
    expect(urlOf('ubuntu-22.04')).toBe('http://archive.ubuntu.com/ubuntu/');
    expect(urlOf('ubuntu-24.04-security')).toBe('http://security.ubuntu.com/ubuntu/');
    expect(urlOf('ubuntu-24.04-ports')).toBe('http://ports.ubuntu.com/ubuntu-ports/');
    expect(urlOf('debian-12')).toBe('http://debian.build-machine.test/debian/');
    expect(urlOf('debian-12-security')).toBe('http://debian.build-machine.test/debian-security/');
  });

  it('names only the variables whose default does not apply, each once, with why: Debian on a machine that is not Debian', async () => {
    const why = 'this machine runs Ubuntu 22.04.4 LTS (/etc/os-release), not Debian';
    const err = await withoutSiteMirrors(() => loadManifest(manifestFile, { buildMachine: { urls: {}, why: { debian: why, 'debian-security': why } } }).catch((e) => e));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.exitCode).toBe(2);
    const variables = [...err.message.matchAll(/needs the environment variable (\w+)/g)].map((x: RegExpMatchArray) => x[1]);
    expect(variables).toEqual(['KS_BUNDLE_DEBIAN_MIRROR', 'KS_BUNDLE_DEBIAN_SECURITY_MIRROR']);
    expect(err.message).toMatch(/kubesphere\.yaml:\d+:\d+: spec\.apt\.sources\[6\]: apt upstream "debian-12" needs the environment variable KS_BUNDLE_DEBIAN_MIRROR: .*and this machine runs Ubuntu 22\.04\.4 LTS/);
  });

  it('validates with the shared upstreams of repos/', async () => {
    const m = await loadManifest(manifestFile);
    expect(m.targets.map((t) => `${t.os}/${t.arch}`)).toEqual(['ubuntu-22.04/amd64', 'ubuntu-22.04/arm64', 'ubuntu-24.04/amd64', 'ubuntu-24.04/arm64', 'debian-12/amd64', 'debian-12/arm64']);
    // Every target has an apt source for it, and each source has a keyring to check Release signatures with.
    for (const t of m.targets) expect(m.apt!.sources.some((s) => !s.for || s.for.includes(t.os))).toBe(true);
    for (const s of m.apt!.sources) expect(s.keyring && !s.trusted).toBeTruthy();
    expect(m.pip!.index).toBe('https://pypi.mirror.test/simple/');
    expect(m.apt!.sources.find((s) => s.name === 'debian-12')!.url).toBe('http://debian.mirror.test/debian/');
    expect(m.playbooks).toMatchObject({ entry: 'cluster.yml' });
    for (const p of ['python3-venv', 'python3-pip', 'ceph-common', 'glusterfs-client', 'conntrack', 'ipset']) expect(m.apt!.packages).toContain(p);
    // sshpass for the inventory's password logins; what kubespray's bootstrap-os, helm and preinstall roles install.
    for (const p of ['sshpass', 'dbus', 'python3-minimal', 'python3-yaml', 'iputils-ping']) expect(m.apt!.packages).toContain(p);
  });

  it('bundles every file kubespray downloads for its settings, on both arches, under the upstream URL path', async () => {
    const m = await loadManifest(manifestFile);
    const byName = new Map(m.files.map((f) => [f.name, f]));
    const arches = [...new Set(m.targets.map((t) => t.arch))];
    const wanted = kubesprayDownloads({ ...BUNDLE_SETTINGS, rbd_provisioner_enabled: true }, arches).files;
    expect(new Set(wanted.map((w) => w.component))).toEqual(
      new Set(['kubelet', 'kubectl', 'kubeadm', 'etcd', 'cni', 'calicoctl', 'calico_crds', 'crictl', 'helm', 'runc', 'nerdctl', 'containerd']),
    );
    for (const w of wanted) {
      const f = byName.get(mirrorPathOf(w.url));
      expect(f, `${w.component}/${w.arch}: ${w.url}`).toBeDefined();
      expect(f!.url).toBe(w.url);
    }
    // Nothing bundled that kubespray would not ask for.
    expect(new Set(wanted.map((w) => mirrorPathOf(w.url)))).toEqual(new Set(byName.keys()));
  });

  it('has a lock consistent with it', async () => {
    const m = await loadManifest(manifestFile);
    const lockFile = join(root, 'manifests/kubesphere.lock.yaml');
    const lock = parseLock(await readFile(lockFile, 'utf8'), lockFile);
    expect(lock.manifest).toEqual({ name: m.name, version: m.version, sha256: sha256sum(manifestFile) });
    const locked = (kind: string, name: string) => lock.artifacts.find((a) => a.kind === kind && a.name === name);
    for (const f of m.files) expect(locked('file', f.name), f.name).toMatchObject({ source: f.url, sha256: f.sha256 });
    for (const f of m.manifests) expect(locked('manifest', f.name), f.name).toMatchObject({ source: f.url, sha256: f.sha256 });
    expect(locked('playbooks', 'playbooks')).toMatchObject({ source: m.playbooks!.url, sha256: m.playbooks!.sha256 });
    // And no pinned entry in the lock that the manifest does not pin.
    const pinned = new Set([...m.files.map((f) => `file ${f.name}`), ...m.manifests.map((f) => `manifest ${f.name}`), 'playbooks playbooks']);
    for (const a of lock.artifacts.filter((a) => ['file', 'manifest', 'playbooks'].includes(a.kind))) expect(pinned.has(`${a.kind} ${a.name}`), `${a.kind} ${a.name}`).toBe(true);
  });

  it('passes the completeness check: kubespray through the mirror vars, and KubeSphere from its installer workload', async () => {
    const m = await loadManifest(manifestFile);
    const view = viewOfManifest(m, new Map([['kubesphere-installer.yaml', await readFile(installerFixture, 'utf8')]]));
    // The choices conf/vars.yml offers: flannel, and the storage it can switch on (local-path, all-in-one's default,
    // with its helper image; local volumes; Ceph RBD).
    const storage = ['local_path_provisioner_enabled', 'local_volume_provisioner_enabled', 'rbd_provisioner_enabled'];
    for (const settings of [BUNDLE_SETTINGS, { ...BUNDLE_SETTINGS, kube_network_plugin: 'flannel' }, ...storage.map((k) => ({ ...BUNDLE_SETTINGS, [k]: true }))]) {
      const r = checkCompleteness(view, { kubespray: { settings } });
      expect(r.missing).toEqual([]);
      expect(r.warnings).toEqual([]);
      // 12 downloads × 2 arches (calico's CRD archive is one file for both); flannel drops calicoctl and the CRDs.
      expect(r.checked.files).toBe(settings.kube_network_plugin === 'flannel' ? 20 : 24);
    }
  });

  it('fails the check naming the file when a kubespray download is dropped, and the image when an image is', async () => {
    const m = await loadManifest(manifestFile);
    const view = viewOfManifest(m, new Map());
    const files = view.files.filter((f) => !f.endsWith('/arm64/kubeadm'));
    const images = view.images.filter((i) => i !== 'registry.k8s.io/pause:3.9');
    const r = checkCompleteness({ ...view, files, images }, { kubespray: { settings: BUNDLE_SETTINGS } });
    expect(r.missing).toEqual([
      { file: 'repos/files/dl.k8s.io/release/v1.26.15/bin/linux/arm64/kubeadm', wantedBy: 'playbooks/roles/kubespray-defaults/defaults/main/download.yml (downloads.kubeadm, kubeadm_download_url, arm64)' },
      { image: 'registry.k8s.io/pause:3.9', wantedBy: 'playbooks/roles/kubespray-defaults/defaults/main/download.yml (downloads.pod_infra)' },
    ]);
  });

  it("names flannel's two images, in kubespray's terms, when kube_network_plugin is flannel and they are not bundled", async () => {
    const m = await loadManifest(manifestFile);
    const view = viewOfManifest(m, new Map());
    const images = view.images.filter((i) => !i.startsWith('docker.io/flannel/'));
    const r = checkCompleteness({ ...view, images }, { kubespray: { settings: { ...BUNDLE_SETTINGS, kube_network_plugin: 'flannel' } } });
    expect(r.missing).toEqual([
      { image: 'docker.io/flannel/flannel:v0.22.0', wantedBy: 'playbooks/roles/kubespray-defaults/defaults/main/download.yml (downloads.flannel)' },
      { image: 'docker.io/flannel/flannel-cni-plugin:v1.1.2', wantedBy: 'playbooks/roles/kubespray-defaults/defaults/main/download.yml (downloads.flannel_init)' },
    ]);
  });

  it("tries, for every KubeSphere image, the copy ks-installer v3.4.1 itself pulls in China, and no alternate for the others", () => {
    requireTools('ansible');
    // ks-installer's own image list, rendered by ansible from its roles/download/defaults/main.yml: as it pulls by
    // default, and as it pulls with zone: cn (namespace_override: kubesphereio, which its kubesphere-defaults role sets).
    const tree = unpackUpstream(KS_INSTALLER_TARBALL);
    const render = (...vars: string[]) => {
      const out = execFileSync(
        'ansible',
        ['localhost', '-c', 'local', '-o', '-m', 'debug', '-e', '@roles/download/defaults/main.yml', ...vars.flatMap((v) => ['-e', v]), '-a', 'msg={{ images.values() | map(attribute="repo") | list }}'],
        { cwd: tree, env: { ...process.env, ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False' } },
      ).toString();
      return (JSON.parse(out.slice(out.indexOf('{'))).msg as string[]).map((r) => formatReference(parseReference(r + ':x')).replace(/:x$/, ''));
    };
    const original = render();
    const china = render('zone=cn', 'namespace_override=kubesphereio');
    expect(china.length).toBe(original.length);
    const chinaOf = new Map(original.map((repo, i) => [repo, china[i]!]));
    return loadManifest(manifestFile).then((m) => {
      // Docker's official images (busybox, nginx) are on ks-installer's list for its sample apps; they are kubespray's
      // and the storage's here, and not gone.
      const kubesphere = m.images
        .map((i) => formatReference(parseReference(i)))
        .filter((i) => chinaOf.has(i.replace(/:[^:/]+$/, '')) && !i.startsWith('docker.io/library/'));
      // The minimal install's images, all of them in the installer's list (and so in its release sync).
      expect(kubesphere.length).toBe(17);
      for (const image of kubesphere) {
        const [repo, tag] = [image.replace(/:[^:/]+$/, ''), image.slice(image.lastIndexOf(':'))];
        expect(sourcesOf(image, m.alternates), image).toEqual([image, chinaOf.get(repo)! + tag]);
        expect(chinaOf.get(repo)).toMatch(/^registry\.cn-beijing\.aliyuncs\.com\/kubesphereio\//);
      }
      for (const image of m.images.map((i) => formatReference(parseReference(i))).filter((i) => !kubesphere.includes(i))) expect(sourcesOf(image, m.alternates), image).toEqual([image]);
    });
  });

  it("verifies Ubuntu's Release files with the archive key shipped in repos/keyrings/, checked by fingerprint with gpg", async () => {
    requireTools('gpg');
    const m = await loadManifest(manifestFile);
    const keyrings = new Set(m.apt!.sources.filter((s) => s.name.startsWith('ubuntu-')).map((s) => s.keyring));
    const file = join(root, 'repos/keyrings/ubuntu-archive-keyring.gpg');
    expect([...keyrings]).toEqual([file]);
    // gpg's reading: exactly one key, Ubuntu's 2018 archive key by its published fingerprint, its self-signature good.
    const home = mkdtempSync(join(tmpdir(), 'ksb-gnupg-'));
    const gpg = (...args: string[]) => execFileSync('gpg', ['--batch', '--homedir', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    gpg('--import', file);
    const listing = gpg('--with-colons', '--check-sigs');
    expect(listing.split('\n').filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9])).toEqual(['F6ECB3762474EDA9D21B7022871920D1991BC93C']);
    expect(listing).toMatch(/^uid:.*Ubuntu Archive Automatic Signing Key \(2018\) <ftpmaster@ubuntu\.com>/m);
    expect(listing).toMatch(/^sig:!::1:871920D1991BC93C:/m);
    // And the build's own reader sees the same key.
    const keys = await readKeyring(await readFile(file));
    expect(keys.map((k) => k.getFingerprint().toUpperCase())).toEqual(['F6ECB3762474EDA9D21B7022871920D1991BC93C']);
  });
});
