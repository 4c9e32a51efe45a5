/**
 * kubelet's resolv.conf on nodes with systemd-resolved, as kubespray v2.24.3 itself decides it: its
 * roles/kubernetes/node/tasks/facts.yml (which picks the per-OS vars file) and its kubelet-config.v1beta1.yaml.j2,
 * run by ansible-playbook from the real tree for stand-in hosts of each OS, with and without the installer's vars.
 * `systemd_resolved_enabled` is what kubespray's preinstall role registers on each host (`systemctl is-active
 * systemd-resolved`: rc 0 when it runs).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTools } from '../support/tools.js';
import { KUBESPRAY_TARBALL, unpackUpstream } from '../support/upstream.js';
import { installerVarsFile } from './installer-vars.js';
import { runKubesprayPlay } from './kubespray-play.js';

const os = (distribution: string, version: string, release: string) => ({
  ansible_connection: 'local',
  ansible_distribution: distribution,
  ansible_distribution_version: version,
  ansible_distribution_major_version: version.split('.')[0],
  ansible_distribution_release: release,
  ansible_os_family: 'Debian',
});
const HOSTS: Record<string, Record<string, unknown>> = {
  'ubuntu24-resolved': { ...os('Ubuntu', '24.04', 'noble'), systemd_resolved_enabled: { rc: 0 } },
  // A run that skipped kubespray's preinstall (a --tags run): Ubuntu, where systemd-resolved is on by default.
  'ubuntu24-unknown': os('Ubuntu', '24.04', 'noble'),
  'ubuntu22-resolved': { ...os('Ubuntu', '22.04', 'jammy'), systemd_resolved_enabled: { rc: 0 } },
  'debian12-plain': { ...os('Debian', '12', 'bookworm'), systemd_resolved_enabled: { rc: 3 } },
  'debian12-resolved': { ...os('Debian', '12', 'bookworm'), systemd_resolved_enabled: { rc: 0 } },
};
const STUB_LOOPS = '/etc/resolv.conf'; // on a systemd-resolved host: nameserver 127.0.0.53, which CoreDNS loops on
const REAL = '/run/systemd/resolve/resolv.conf';

let tmp: string;
let kubespray: string;

async function kubeletResolvConf(name: string, extraVarFiles: string[]): Promise<Record<string, string>> {
  // skydns_server is computed with the ansible.utils collection, which ansible-core alone lacks; any address will do.
  writeFileSync(join(tmp, 'dns.json'), JSON.stringify({ skydns_server: '10.233.0.3', skydns_server_secondary: '10.233.0.4' }));
  await runKubesprayPlay(tmp, name, {
    kubespray,
    roles: [],
    hosts: 'k8s_cluster',
    inventory: { all: { children: { k8s_cluster: { children: { kube_control_plane: { hosts: { 'ubuntu24-resolved': HOSTS['ubuntu24-resolved'] } }, kube_node: { hosts: Object.fromEntries(Object.entries(HOSTS).slice(1)) } } } } } },
    extraVarFiles: [...extraVarFiles, join(tmp, 'dns.json')],
    tasks: [
      { import_role: { name: 'kubernetes/node', tasks_from: 'facts.yml' } },
      { template: { src: join(kubespray, 'roles/kubernetes/node/templates/kubelet-config.v1beta1.yaml.j2'), dest: `${tmp}/${name}-{{ inventory_hostname }}.yaml` } },
    ],
  });
  return Object.fromEntries(Object.keys(HOSTS).map((h) => [h, /^resolvConf: "([^"]*)"$/m.exec(readFileSync(join(tmp, `${name}-${h}.yaml`), 'utf8'))![1]!]));
}

beforeAll(() => {
  requireTools('ansible-playbook', 'tar', 'sha256sum');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-resolv-'));
  kubespray = unpackUpstream(KUBESPRAY_TARBALL, tmp);
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("kubelet's resolvConf on systemd-resolved nodes", () => {
  it('kubespray v2.24.3 alone hands Ubuntu 24.04 the stub: the loop the installer must prevent', async () => {
    const got = await kubeletResolvConf('kubespray-alone', []);
    expect(got['ubuntu24-resolved']).toBe(STUB_LOOPS);
    expect(got['ubuntu22-resolved']).toBe(REAL);
  }, 400_000);

  it("with the installer's vars, every host where systemd-resolved runs gets its real file, the others /etc/resolv.conf", async () => {
    const installerVars = await installerVarsFile({ dir: tmp, kubespray, mirrorHost: '10.0.0.1', port: 5080 });
    const got = await kubeletResolvConf('with-installer-vars', [installerVars]);
    expect(got).toEqual({
      'ubuntu24-resolved': REAL,
      'ubuntu24-unknown': REAL,
      'ubuntu22-resolved': REAL,
      'debian12-plain': '/etc/resolv.conf',
      'debian12-resolved': REAL,
    });
  }, 400_000);
});
