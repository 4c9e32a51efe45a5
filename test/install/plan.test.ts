/**
 * `install --offline BUNDLE --plan` against a bundle that holds the real kubespray v2.24.3 tree and ks-installer
 * v3.4.1's real manifests (unpacked from the upstream tarballs into a temp folder, built into a bundle by the real
 * CLI, unpacked by GNU tar). The oracles are the upstream files themselves, read here with grep and js-yaml:
 * every variable handed to ansible-playbook must be one kubespray's tree names, every ClusterConfiguration key one
 * of ks-installer's deploy/cluster-configuration.yaml. No node exists: the plan must not need one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { REPO, runCli } from '../support/cli.js';
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';
import { KS_INSTALLER_TARBALL, KUBESPRAY_TARBALL, unpackUpstream } from '../support/upstream.js';

const HOSTS_AIO = '[all]\nnode1 ansible_connection=local ip=10.0.0.1\n[kube-master]\nnode1\n[etcd]\nnode1\n[kube-node]\nnode1\n[k8s-cluster:children]\nkube-master\nkube-node\n';
const HOSTS_MULTI = HOSTS_AIO.replace('[all]\n', '[all]\nnode2 ansible_host=10.0.0.2 ip=10.0.0.2 ansible_user=root\n').replace('[kube-node]\nnode1\n', '[kube-node]\nnode2\n');

interface Plan {
  steps: Array<{ id: string; title: string; hosts: string[] }>;
  ansible: { playbook: string; extraVars: Record<string, unknown>; mirrorOwned: string[] };
  storage: { defaultClass: string | null; classes: Array<{ name: string; provisioner: string; default: boolean }> };
  kubesphere: { manifests: string[]; clusterConfiguration: { spec: Record<string, any> }; images: string[] } | null;
  images: { wanted: string[]; missing: string[] };
  notes: string[];
}

/** Every key path of a mapping tree: `common.core.console.port`. */
function keyPaths(o: unknown, prefix = ''): string[] {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return [];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => [prefix ? `${prefix}.${k}` : k, ...keyPaths(v, prefix ? `${prefix}.${k}` : k)]);
}

describe('install --plan on a bundle with the real kubespray v2.24.3 and ks-installer v3.4.1', () => {
  let work: string;
  let up: FaultUpstream;
  let bundle: string;
  let kubespray: string;
  let ksInstaller: string;
  /** The variables kubespray's tree names, found with grep (not with the code under test). */
  let kubesprayVars: Set<string>;

  const conf = (name: string, hosts: string, vars: string): string => {
    const dir = join(work, 'conf', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hosts.ini'), hosts);
    writeFileSync(join(dir, 'vars.yml'), vars);
    return dir;
  };
  const plan = (confDir: string, mode: string, ...extra: string[]) =>
    runCli(['install', '--offline', bundle, '--plan', '--json', '--mode', mode, '--conf', confDir, '--data-dir', join(work, 'data'), ...extra]);

  beforeAll(async () => {
    requireTools('tar', 'sha256sum', 'grep');
    work = mkdtempSync(join(tmpdir(), 'ksb-plan-'));
    kubespray = unpackUpstream(KUBESPRAY_TARBALL, work);
    ksInstaller = unpackUpstream(KS_INSTALLER_TARBALL, work);
    up = await startFaultUpstream(join(ksInstaller, 'deploy'));
    const manifest = join(work, 'plan.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: ks-bundle/v1',
        'kind: BundleManifest',
        'metadata: {name: plan-test, version: 1.0.0}',
        'spec:',
        '  targets: [{os: debian-12, arch: amd64}]',
        '  runtime: {source: local}',
        `  playbooks: {path: ${kubespray}, entry: cluster.yml}`,
        '  manifests:',
        ...['kubesphere-installer.yaml', 'cluster-configuration.yaml'].map((f) => `    - {url: "${up.url}/${f}", sha256: ${sha256sum(join(ksInstaller, 'deploy', f))}}`),
        '',
      ].join('\n'),
    );
    const built = await runCli(['build', '-m', manifest, '-o', join(work, 'b.tar'), '--cache', join(work, 'cache'), '--allow-missing']);
    expect(built.code, built.stderr).toBe(0);
    mkdirSync(join(work, 'x'));
    execFileSync('tar', ['-xf', join(work, 'b.tar'), '-C', join(work, 'x')]);
    bundle = join(work, 'x', 'plan-test-1.0.0');
    const grep = (args: string[]) => execFileSync('sh', ['-c', `grep ${args.join(' ')} || true`], { cwd: kubespray, encoding: 'utf8', maxBuffer: 1 << 26 });
    const defaults = grep(['-rhoE', `'^#? ?[a-z_][a-z0-9_]*:'`, '--include=*.yml', '--include=*.yaml', 'inventory/sample/group_vars', ...execFileSync('sh', ['-c', 'find roles -type d -name defaults'], { cwd: kubespray, encoding: 'utf8' }).split('\n').filter(Boolean)]);
    const read = grep(['-rhoE', `'[a-z_][a-z0-9_]*[[:space:]]*[|][[:space:]]*default[(]'`, 'roles', 'playbooks']);
    kubesprayVars = new Set([...defaults.matchAll(/^#? ?([a-z_][a-z0-9_]*):/gm)].map((m) => m[1]!).concat([...read.matchAll(/^([a-z_][a-z0-9_]*)/gm)].map((m) => m[1]!)));
    expect(kubesprayVars.size).toBeGreaterThan(1000);
  }, 120_000);

  afterAll(async () => {
    await up?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('all-in-one: kubespray variables only, local-path the one default class, a ClusterConfiguration in ks-installer\'s keys, changing nothing', async () => {
    const dir = conf('aio', HOSTS_AIO, 'kube_network_plugin: calico\n');
    writeFileSync(join(dir, 'hosts.ini.orig'), HOSTS_AIO);
    const r = await plan(dir, 'all-in-one', '--allow-missing');
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as Plan;
    expect(p.steps.map((s) => s.id)).toEqual(['verify', 'unpack', 'mirror', 'taskbox', 'preflight', 'wire', 'cluster', 'kubesphere', 'report']);
    expect(p.steps.find((s) => s.id === 'kubesphere')!.hosts).toEqual(['node1']);
    expect(p.ansible.playbook).toBe('playbooks/cluster.yml');

    // Every variable ansible-playbook gets is one kubespray's tree names, or a ks-bundle one the README documents.
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const strangers = Object.keys(p.ansible.extraVars).filter((k) => !kubesprayVars.has(k) && !(k.startsWith('ks_bundle_') && readme.includes(`\`${k}\``)));
    expect(strangers).toEqual([]);
    for (const k of p.ansible.mirrorOwned) expect(Object.keys(p.ansible.extraVars)).toContain(k);
    expect(p.ansible.mirrorOwned).toEqual(expect.arrayContaining(['files_repo', 'containerd_registries_mirrors', 'kubelet_download_url', 'local_path_provisioner_is_default_storageclass']));
    expect(p.ansible.extraVars.kube_network_plugin).toBe('calico');
    expect(p.ansible.extraVars.local_path_provisioner_enabled).toBe(true);
    expect(p.ansible.extraVars.local_path_provisioner_is_default_storageclass).toBe('true');
    // The mirror's own address is a registry for containerd: KubeSphere's images are pulled by it.
    expect((p.ansible.extraVars.containerd_registries_mirrors as Array<{ prefix: string }>).map((m) => m.prefix)).toContain('10.0.0.1:5080');

    expect(p.storage).toEqual({ defaultClass: 'local-path', classes: [{ name: 'local-path', provisioner: 'rancher.io/local-path', default: true }] });
    // kubespray's own StorageClass template for local-path names that provisioner.
    expect(readFileSync(join(kubespray, 'roles/kubernetes-apps/external_provisioner/local_path_provisioner/templates/local-path-storage-sc.yml.j2'), 'utf8')).toContain('provisioner: rancher.io/local-path');

    const upstream = yaml.load(readFileSync(join(ksInstaller, 'deploy', 'cluster-configuration.yaml'), 'utf8')) as { spec: unknown };
    const known = new Set(keyPaths(upstream.spec));
    expect(keyPaths(p.kubesphere!.clusterConfiguration.spec).filter((k) => !known.has(k))).toEqual(['telemetry_enabled']);
    expect(readFileSync(join(ksInstaller, 'playbooks', 'telemetry.yaml'), 'utf8')).toContain('telemetry_enabled | default(true)');
    expect(p.kubesphere!.clusterConfiguration.spec.local_registry).toBe('10.0.0.1:5080');
    expect(p.kubesphere!.clusterConfiguration.spec.persistence.storageClass).toBe('local-path');
    expect(p.kubesphere!.clusterConfiguration.spec.telemetry_enabled).toBe(false);
    expect(p.kubesphere!.manifests).toEqual(['manifests/kubesphere-installer.yaml', 'manifests/cluster-configuration.yaml']);
    expect(p.kubesphere!.images).toEqual(expect.arrayContaining(['10.0.0.1:5080/kubesphere/ks-installer:v3.4.1', '10.0.0.1:5080/kubesphere/ks-console:v3.4.1', '10.0.0.1:5080/prom/prometheus:v2.39.1']));

    // What the install pulls, from the user's vars: kubespray's images for calico, local-path and its helper, KubeSphere's.
    expect(p.images.wanted).toEqual(
      expect.arrayContaining(['quay.io/calico/node:v3.26.4', 'docker.io/rancher/local-path-provisioner:v0.0.24', 'docker.io/library/busybox:1.36.1', 'docker.io/kubesphere/ks-installer:v3.4.1', 'docker.io/kubesphere/ks-apiserver:v3.4.1']),
    );
    // This bundle holds no image at all.
    expect([...p.images.missing].sort()).toEqual([...p.images.wanted].sort());
    // A file in conf/ that the install does not read is said.
    expect(p.notes).toContain(`${join(dir, 'hosts.ini.orig')}: not read by the install (only ${join(dir, 'hosts.ini')} and ${join(dir, 'vars.yml')} are)`);
    // Nothing was written: no data folder, no state.
    expect(existsSync(join(work, 'data'))).toBe(false);
  });

  it('multi-node with Ceph RBD and local-path: the named class is the one default; kubespray\'s local-path default is turned off', async () => {
    const vars = ['rbd_provisioner_enabled: true', 'rbd_provisioner_monitors: "10.0.0.9:6789"', 'rbd_provisioner_secret: AQAnwihbXo+uDxAAD0HmWzi==', 'local_path_provisioner_enabled: true', 'ks_bundle_default_storage_class: rbd', 'helm_enabled: false', 'kube_resolv_conf: /etc/resolv.conf', ''].join('\n');
    const r = await plan(conf('multi', HOSTS_MULTI, vars), 'multi-node', '--allow-missing');
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as Plan;
    expect(p.storage.defaultClass).toBe('rbd');
    expect(p.storage.classes).toEqual([
      { name: 'local-path', provisioner: 'rancher.io/local-path', default: false },
      { name: 'rbd', provisioner: 'ceph.com/rbd', default: true },
    ]);
    expect(p.ansible.extraVars.local_path_provisioner_is_default_storageclass).toBe('false');
    // The user's vars win over the bundle's settings (helm_enabled: true) and ks-bundle's node defaults.
    expect(p.ansible.extraVars.helm_enabled).toBe(false);
    expect(p.ansible.extraVars.kube_resolv_conf).toBe('/etc/resolv.conf');
    expect(p.ansible.extraVars.ks_bundle_default_storage_class).toBeUndefined();
    expect(p.kubesphere!.clusterConfiguration.spec.persistence.storageClass).toBe('rbd');
    expect(p.images.wanted).toContain('quay.io/external_storage/rbd-provisioner:v2.1.1-k8s1.11');
    // The secret reaches Ansible, but not the plan's output.
    expect(p.ansible.extraVars.rbd_provisioner_secret).toBe('***');
    expect(r.stdout + r.stderr).not.toContain('AQAnwihbXo');
    expect(p.steps.find((s) => s.id === 'wire')!.hosts.sort()).toEqual(['node1', 'node2']);
  });

  it('without --allow-missing the plan is still printed, and the missing images fail it (exit 1)', async () => {
    const r = await plan(conf('aio', HOSTS_AIO, 'kube_network_plugin: calico\n'), 'all-in-one');
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as Plan).images.missing.length).toBeGreaterThan(10);
    expect(r.stderr).toMatch(/^error: the install would ask for \d+ thing\(s\) the bundle does not hold/m);
    expect(r.stderr).toContain('image quay.io/calico/node:v3.26.4, wanted by playbooks/roles/kubespray-defaults/defaults/main/download.yml');
  });

  it('a bad vars.yml exits 2 with every problem, each naming file:line and key, before anything else', async () => {
    const vars = [
      'kube_network_plugn: calico', // 1: a typo
      'helm_enabled: sometimes', // 2: a bool
      'files_repo: http://elsewhere.invalid/files', // 3: the mirror's
      'glusterfs_provisioner_enabled: true', // 4: GlusterFS on 1.26
      'ks_bundle_kubesphere:', // 5
      '  devopz: {enabled: true}', // 6: not a ClusterConfiguration key
      '  local_registry: registry.example:5000', // 7: ks-bundle's
      'local_path_provisioner_is_default_storageclass: "false"', // 8: derived from the one key
      '',
    ].join('\n');
    const dir = conf('bad', HOSTS_AIO, vars);
    const r = await plan(dir, 'all-in-one', '--allow-missing');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const file = join(dir, 'vars.yml');
    const problems = r.stderr.split('\n').filter((l) => l.startsWith(`  ${file}:`));
    expect(problems.map((l) => /:(\d+):\d+: (\S+):/.exec(l)!.slice(1, 3))).toEqual([
      ['1', 'kube_network_plugn'],
      ['2', 'helm_enabled'],
      ['3', 'files_repo'],
      ['4', 'glusterfs_provisioner_enabled'],
      ['6', 'ks_bundle_kubesphere.devopz'],
      ['7', 'ks_bundle_kubesphere.local_registry'],
      ['8', 'local_path_provisioner_is_default_storageclass'],
    ]);
    expect(r.stderr).toContain('did you mean kube_network_plugin?');
    expect(r.stderr).toContain('removed in Kubernetes 1.26');
  });

  it('a bundle path that does not exist is said first, before the missing --mode', async () => {
    const r = await runCli(['install', '--offline', join(work, 'nope'), '--plan']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*nope: no such bundle/m);
    expect(r.stderr).not.toContain('--mode');
  });
});
