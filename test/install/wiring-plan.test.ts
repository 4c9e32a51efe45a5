/**
 * On a kubespray bundle, containerd's configuration is kubespray's alone: wiring a real node (sandbox chroot over
 * SSH) writes nothing under /etc/containerd, a rerun after kubespray wrote its files leaves them as they are, and
 * `nodes restore` puts back exactly what the wiring changed, nothing of kubespray's. Files are fingerprinted by the
 * node's own sha256sum and stat.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleInfo } from '../../src/install/bundle-info.js';
import { pipChanges, registryChanges } from '../../src/install/wiring-plan.js';
import type { NodeSession } from '../../src/nodes/session.js';
import { connectSsh } from '../../src/nodes/ssh.js';
import { applyFiles, changedFiles, restoreFiles } from '../../src/nodes/wiring.js';
import { createSandbox, type Sandbox } from '../testbed/sandbox.js';
import { isRoot, requireTools } from '../support/tools.js';

const MIRROR = 'http://10.0.0.1:5080';
const info = (kubespray: boolean): BundleInfo => ({
  dir: '/nonexistent', name: 'b', version: '1', sha256sums: '', targets: [], aptRepos: new Map(), registries: ['docker.io', 'quay.io', 'registry.k8s.io'],
  pipRequirements: [], taskboxPackages: [], ...(kubespray ? { kubespray: { version: 'v2.24.3', settings: {} } } : {}),
});
// What kubespray's containerd role leaves on a node (the config and the mirror's hosts.toml), written here as it would be.
const KUBESPRAY_FILES = ['/etc/containerd/config.toml', '/etc/containerd/certs.d/10.0.0.1:5080/hosts.toml'];

let sb: Sandbox;
let dir: string;
let s: NodeSession;

beforeAll(async () => {
  expect(isRoot()).toBe(true);
  requireTools('ssh-keygen', 'nsenter', 'unshare', 'debootstrap', 'sha256sum');
  sb = await createSandbox({ nodes: [{ name: 'node1', auth: 'key' }] });
  dir = mkdtempSync(join(tmpdir(), 'ksb-wiring-plan-'));
  const n = sb.node('node1');
  s = await connectSsh({ name: n.name, host: n.ip, port: n.port, user: n.user, privateKeyFile: n.keyPath }, { hostKeys: { knownHostsFile: join(dir, 'known_hosts'), acceptNew: true } });
}, 180_000);

afterAll(async () => {
  await s?.close();
  await sb?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const fingerprint = async (paths: string[]) =>
  (await sb.exec('node1', paths.map((p) => `if [ -e '${p}' ]; then sha256sum '${p}'; stat -c '%a %Y' '${p}'; else echo absent '${p}'; fi`).join('; '))).stdout;

describe('wiring a node for a kubespray bundle', () => {
  it('writes nothing under /etc/containerd, keeps kubespray\'s files through a rerun, and restore leaves them alone', async () => {
    const plan = [...pipChanges(MIRROR), ...(await registryChanges(s, info(true), MIRROR))];
    expect(plan.map((c) => c.path)).toEqual(['/etc/pip.conf']);
    await applyFiles(s, plan);
    // kubespray's cluster.yml runs next and writes its containerd files.
    await sb.exec('node1', `mkdir -p '/etc/containerd/certs.d/10.0.0.1:5080' && echo 'version = 2' > /etc/containerd/config.toml && printf 'server = "https://10.0.0.1:5080"\\n' > '/etc/containerd/certs.d/10.0.0.1:5080/hosts.toml' && chmod 0640 /etc/containerd/config.toml`);
    const kubesprays = await fingerprint(KUBESPRAY_FILES);
    expect(kubesprays).not.toContain('absent');
    // A rerun of the install wires again: same plan, nothing changes, kubespray's files untouched.
    expect(await applyFiles(s, [...pipChanges(MIRROR), ...(await registryChanges(s, info(true), MIRROR))])).toEqual(['unchanged']);
    expect(await fingerprint(KUBESPRAY_FILES)).toBe(kubesprays);
    expect(await changedFiles(s)).toEqual(['/etc/pip.conf']);
    expect(await restoreFiles(s)).toEqual(['removed /etc/pip.conf']);
    expect(await fingerprint(KUBESPRAY_FILES)).toBe(kubesprays);
    expect(await fingerprint(['/etc/pip.conf'])).toContain('absent');
  }, 120_000);

  it('a bundle without kubespray still gets certs.d for each registry, with the mirror as server', async () => {
    const plan = await registryChanges(s, info(false), MIRROR);
    expect(plan.map((c) => c.path)).toEqual(['/etc/containerd/certs.d/docker.io/hosts.toml', '/etc/containerd/certs.d/quay.io/hosts.toml', '/etc/containerd/certs.d/registry.k8s.io/hosts.toml']);
    expect(plan.every((c) => 'content' in c && String(c.content).includes(`server = "${MIRROR}"`))).toBe(true);
  });
});
