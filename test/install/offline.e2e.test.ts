/**
 * The offline install end to end, with real parts only: a bundle built by the real CLI from local
 * upstreams (docker-registry with auth, the repacked-Debian wheel index, this machine's Debian mirror through a
 * loopback proxy), carried into node1 of the TESTBED sandbox as a tarball, unpacked there with tar and installed by
 * its own ./install.sh with its own bin/node onto three sealed chroot nodes: apt, pip and containerd on every node
 * get everything from the mirror, or the install fails.
 *
 * One sandbox and one bundle serve every case. The failure cases run first, so "untouched" means pristine.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, isRoot } from '../support/tools.js';
import type { Sandbox } from '../testbed/sandbox.js';
import { mountsUnder, netnsList } from '../testbed/sys.js';
import {
  buildDemoBundle,
  carryIntoTaskbox,
  createDemoSandbox,
  INSTALL_ARGS,
  keyPathInNode,
  MULTI_NODE_VARS,
  removeDir,
  runInstallInTaskbox,
  startWorld,
  unpackInTaskbox,
  worldDir,
  writeConf,
  type World,
} from '../support/world.js';

const NODES = ['node1', 'node2', 'node3'] as const;
const PACKAGES = ['socat', 'conntrack', 'ipset', 'ebtables', 'containerd', 'python3-venv', 'python3-pip'];

/** Every file the wiring may write, move aside or back up, with its mode, owner and sha256: "path mode owner sha". */
const WIRED = '/etc/apt/sources.list /etc/apt/sources.list.d /etc/apt/keyrings /etc/pip.conf /etc/containerd/certs.d /etc/docker/daemon.json';
const SNAPSHOT = `find ${WIRED} \\( -type f -o -type l \\) 2>/dev/null | LC_ALL=C sort | while IFS= read -r f; do
  printf '%s %s %s\\n' "$f" "$(stat -c '%a %U:%G' "$f")" "$(sha256sum < "$f" | cut -c1-64)"; done`;

/** The machine's own apt sources and pip.conf, which nothing here may touch. */
function hostSnapshot(): string {
  return execFileSync('sh', ['-c', SNAPSHOT.replace(WIRED, '/etc/apt/sources.list /etc/apt/sources.list.d /etc/pip.conf')], { encoding: 'utf8' });
}

describe('install --offline end to end on three sandbox nodes', () => {
  let work: string;
  let world: World | undefined;
  let sb: Sandbox | undefined;
  let bundle: string; // the unpacked bundle as node1 sees it
  let upstreamDigest: string;
  let hostBefore: string;
  const pristine = new Map<string, string>();

  const snapshot = async (node: string) => (await sb!.exec(node, SNAPSHOT)).stdout;
  const snapshots = async () => new Map(await Promise.all(NODES.map(async (n) => [n, await snapshot(n)] as const)));
  const install = (args = INSTALL_ARGS) => runInstallInTaskbox(sb!, bundle, args);
  const inNode1 = (path: string) => join(sb!.rootOf('node1'), path);
  // Variants of hosts.ini and vars.yml live outside the bundle: verify refuses any file SHA256SUMS does not list.
  const VARIANTS = '/root/ksb-variants';
  const variant = (name: string, text: string): string => {
    mkdirSync(inNode1(VARIANTS), { recursive: true });
    writeFileSync(inNode1(`${VARIANTS}/${name}`), text, { mode: 0o600 });
    return `${VARIANTS}/${name}`;
  };

  beforeAll(async () => {
    expect(isRoot(), 'the sandbox needs root').toBe(true);
    requireTools('docker-registry', 'htpasswd', 'skopeo', 'umoci', 'debootstrap', 'unshare', 'nsenter', 'ip', 'ssh-keygen', 'sha256sum');
    hostBefore = hostSnapshot();
    work = worldDir('ksb-e2e-');
    world = await startWorld(work);
    // Upstream's digest, independent of our code: the registry's own manifest bytes, hashed by sha256sum.
    const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', world.registry.creds, `docker://${world.upstreamImageRef}`]);
    upstreamDigest = 'sha256:' + execFileSync('sha256sum', { input: raw, encoding: 'utf8' }).slice(0, 64);
    const tarball = join(work, 'ks-demo.tar');
    await buildDemoBundle({ out: tarball, cache: '/var/cache/ks-bundle-test/demo-cache', env: world.buildEnv });
    // The bundle is built: the install needs no upstream, so none may be left running to hide a leak.
    await world.close();
    world = undefined;

    sb = await createDemoSandbox();
    const tarInNode = carryIntoTaskbox(sb, tarball);
    bundle = await unpackInTaskbox(sb, tarInNode);
    writeConf(sb, bundle);
    for (const [n, s] of await snapshots()) pristine.set(n, s);
  });

  afterAll(async () => {
    await world?.close();
    const dir = sb?.dir;
    const netns = sb ? [...sb.nodes.values()].map((n) => n.netns) : [];
    const subnet = sb?.subnet;
    await sb?.teardown();
    if (work) removeDir(work);
    if (dir) {
      // Tear-down left no namespace, mount, process or guard route behind.
      expect(netnsList().filter((n) => netns.includes(n))).toEqual([]);
      expect(mountsUnder(dir)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
      const inside = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return readlinkSync(`/proc/${p}/root`).startsWith(dir);
        } catch {
          return false;
        }
      });
      expect(inside).toEqual([]);
      expect(execFileSync('ip', ['route', 'show'], { encoding: 'utf8' })).not.toContain(subnet!);
    }
    // The machine's own apt sources and pip.conf are exactly as they were.
    if (hostBefore !== undefined) expect(hostSnapshot()).toBe(hostBefore);
  });

  it('a flipped byte in the bundle stops the install at verify (exit 3), naming the file, before anything changes', async () => {
    const file = inNode1(join(bundle, 'playbooks', 'site.yml'));
    const original = readFileSync(file);
    const flipped = Buffer.from(original);
    flipped[10] = flipped[10]! ^ 0x01;
    execFileSync('sh', ['-c', 'cat > "$1"', 'sh', file], { input: flipped });
    try {
      const r = await install();
      expect(r.code, r.stdout).toBe(3);
      expect(r.stdout).toContain('playbooks/site.yml');
      expect(r.stdout).toContain('[1/9] verify the bundle: failed');
      expect(r.stdout).not.toContain('start the mirror: running');
    } finally {
      execFileSync('sh', ['-c', 'cat > "$1"', 'sh', file], { input: original });
    }
    expect(await snapshots()).toEqual(pristine);
  });

  it('an inventory with two masters and no [etcd], or a host missing from [all], is refused (exit 2) naming the line', async () => {
    const conf = inNode1(join(bundle, 'conf'));
    const good = readFileSync(join(conf, 'hosts.ini'), 'utf8');
    const noEtcd = good.replace('[kube-master]\nnode1\n', '[kube-master]\nnode1\nnode2\n').replace(/\[etcd\]\nnode1\n\n/, '');
    expect(noEtcd).not.toContain('[etcd]');
    let r = await install(`${INSTALL_ARGS} -i ${variant('two-masters.ini', noEtcd)}`);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stdout).toMatch(/two-masters\.ini:1\b[^\n]*no \[etcd\] section/);

    const typo = good.replace('[kube-node]\nnode2\nnode3\n', '[kube-node]\nnode2\nnod3\n');
    const typoLine = typo.split('\n').indexOf('nod3') + 1;
    r = await install(`${INSTALL_ARGS} -i ${variant('typo.ini', typo)}`);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stdout).toMatch(new RegExp(`typo\\.ini:${typoLine}\\b[^\\n]*nod3[^\\n]*not defined in \\[all\\][^\\n]*did you mean node3`));
    expect(await snapshots()).toEqual(pristine);
  });

  it('a vars.yml with two default storage classes and a mirror-owned key is refused (exit 2), every problem with its line, at once', async () => {
    const bad = MULTI_NODE_VARS.replace('ceph_rbd_is_default_class: false', 'ceph_rbd_is_default_class: true') + 'ks_bundle_default_storage_class: rbd\nks_bundle_mirror: http://10.9.9.9:80\n';
    const lines = bad.split('\n');
    const at = (key: string) => lines.findIndex((l) => l.startsWith(`${key}:`)) + 1;
    const r = await install(`${INSTALL_ARGS} -c ${variant('two-defaults.yml', bad)}`);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stdout).toMatch(new RegExp(`two-defaults\\.yml:${at('ceph_rbd_is_default_class')}:1: ceph_rbd_is_default_class: [^\\n]*ceph_rbd_is_default_class \\(line ${at('ceph_rbd_is_default_class')}\\) and ks_bundle_default_storage_class \\(line ${at('ks_bundle_default_storage_class')}\\)`));
    expect(r.stdout).toMatch(new RegExp(`two-defaults\\.yml:${at('ks_bundle_mirror')}:1: ks_bundle_mirror: is set by ks-bundle`));
    expect(r.stdout).not.toContain('verify the bundle: running');
    expect(await snapshots()).toEqual(pristine);
  });

  // From here on the taskbox (node1) has been through InitInstaller (step 4 comes before preflight by design), so
  // "untouched" is asserted for the nodes the installer reaches over SSH.
  it('a wrong become password on node3 fails preflight (exit 1) naming node3, never echoing the password; no node changes', async () => {
    const conf = inNode1(join(bundle, 'conf'));
    const wrong = readFileSync(join(conf, 'hosts.ini'), 'utf8').replace('ansible_become_pass=ksb-become-three', 'ansible_become_pass=not-the-pw-3x');
    expect(wrong).toContain('not-the-pw-3x');
    const r = await install(`${INSTALL_ARGS} -i ${variant('wrong-become.ini', wrong)}`);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^node3 .*FAIL: .*sudo refused the become password/m);
    expect(r.stdout).toMatch(/preflight failed on node3;/);
    expect(r.stdout).not.toContain('not-the-pw-3x');
    expect(r.stdout).toContain('[5/9] preflight every host: failed');
    expect(r.stdout).not.toContain('wire every node to the mirror: running');
    const now = await snapshots();
    expect(now.get('node2')).toBe(pristine.get('node2'));
    expect(now.get('node3')).toBe(pristine.get('node3'));
  });

  it("node2's sshd stopped fails preflight (exit 1) naming node2; no node changes", async () => {
    sb!.stopSshd('node2');
    try {
      const r = await install();
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toMatch(/^node2 .*FAIL: .*connection refused.*sshd/m);
      expect(r.stdout).toMatch(/preflight failed on node2;/);
      expect(r.stdout).not.toContain('wire every node to the mirror: running');
    } finally {
      await sb!.startSshd('node2');
    }
    const now = await snapshots();
    expect(now.get('node2')).toBe(pristine.get('node2'));
    expect(now.get('node3')).toBe(pristine.get('node3'));
  });

  let firstWired: Map<string, string>;

  it('installs: packages on all three nodes, the wheel imports, the image digest is upstream\'s, the miss log is empty', async () => {
    const r = await install();
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('mirror miss log: empty');
    for (const n of NODES) {
      const dpkg = await sb!.exec(n, `dpkg-query -W -f '\${Package} \${Status}\\n' ${PACKAGES.join(' ')}`);
      expect(dpkg.stdout.trim().split('\n').sort()).toEqual(PACKAGES.map((p) => `${p} install ok installed`).sort());
      const imp = await sb!.exec(n, `/var/lib/ks-demo/venv/bin/python -c 'import netaddr; print(netaddr.IPNetwork("10.0.0.0/30").size)'`);
      expect(imp.stdout.trim()).toBe('4');
      expect((await sb!.exec(n, 'cat /var/lib/ks-demo/busybox.digest')).stdout.trim()).toBe(upstreamDigest);
      // What the pull went through: the wiring's hosts.toml with the mirror as server, nothing upstream.
      expect((await sb!.exec(n, 'cat /etc/containerd/certs.d/docker.io/hosts.toml')).stdout).toContain(`server = "http://${sb!.node('node1').ip}:5080"`);
    }
    // The taskbox's Ansible came from the mirror's pip index into its venv.
    const ansible = await sb!.exec('node1', '/var/lib/ks-bundle/state/ks-demo-0.1.0/venv/bin/python -c "import ansible, jinja2, netaddr; print(ansible.__version__)"');
    expect(ansible.stdout.trim()).toMatch(/^2\.\d+\.\d+$/);
    const misses = await sb!.exec('node1', `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:5080/misses").read().decode())'`);
    expect(JSON.parse(misses.stdout)).toEqual([]);
    // Secrets never reach the output, the state, the logs or the generated vars.
    const secrets = [...sb!.nodes.values()].flatMap((n) => (n.auth === 'password' ? [n.password] : [])).concat([...sb!.nodes.values()].flatMap((n) => (n.becomePassword ? [n.becomePassword] : [])));
    expect(secrets.length).toBeGreaterThan(1);
    for (const s of secrets) expect(r.stdout).not.toContain(s);
    const leaked = await sb!.exec('node1', `grep -rlF --exclude-dir=venv ${secrets.map((s) => `-e '${s}'`).join(' ')} /var/lib/ks-bundle`, { allowFail: true });
    expect(leaked.stdout).toBe('');
    firstWired = await snapshots();
    for (const n of NODES) expect(firstWired.get(n)).not.toBe(pristine.get(n));
  }, 900_000);

  const STATE = '/var/lib/ks-bundle/state/ks-demo-0.1.0/install-state.json';
  const STEPS = ['verify', 'unpack', 'mirror', 'taskbox', 'preflight', 'wire', 'cluster', 'kubesphere', 'report'];
  /** The step events of a --json run, in order, as [id, status]. */
  const stepEvents = (stdout: string) =>
    stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { type: string; id?: string; status?: string })
      .filter((e) => e.type === 'step')
      .map((e) => [e.id, e.status]);

  it('records every step; a rerun with --json prints only JSON lines, reports the done steps as skipped and changes nothing', async () => {
    const state = JSON.parse((await sb!.exec('node1', `cat ${STATE}`)).stdout) as { done: Record<string, unknown> };
    expect(Object.keys(state.done).sort()).toEqual([...STEPS].sort());
    const r = await sb!.exec('node1', `cd ${bundle} && ./install.sh ${INSTALL_ARGS} --json 2>/dev/null`, { allowFail: true });
    expect(r.code, r.stdout).toBe(0);
    // Every stdout line is JSON (JSON.parse throws otherwise).
    const steps = stepEvents(r.stdout);
    // verify proves the bytes afresh and report reads the miss log afresh (both read-only); nothing else runs.
    expect(steps).toEqual([
      ['verify', 'running'],
      ['verify', 'done'],
      ...STEPS.slice(1, -1).map((id) => [id, 'skipped']),
      ['report', 'running'],
      ['report', 'done'],
    ]);
    expect(await snapshots()).toEqual(firstWired);
  });

  it('every step is idempotent: a run without the state file changes nothing and duplicates no line', async () => {
    const lists = async () => new Map(await Promise.all(NODES.map(async (n) => [n, (await sb!.exec(n, 'cat /var/lib/ks-bundle/wiring/changed-files')).stdout] as const)));
    const listsBefore = await lists();
    await sb!.exec('node1', `rm ${STATE}`);
    const r = await install();
    expect(r.code, r.stdout).toBe(0);
    for (const n of NODES) expect(r.stdout).toMatch(new RegExp(`^ +${n}: 0 file\\(s\\) changed, \\d+ already right$`, 'm'));
    expect(r.stdout).toContain('[7/9] the cluster, with ansible-playbook from the mirror: done');
    expect(r.stdout).toContain('mirror miss log: empty');
    expect(await snapshots()).toEqual(firstWired);
    expect(await lists()).toEqual(listsBefore);
    for (const n of NODES) {
      for (const f of ['/var/lib/ks-bundle/wiring/changed-files', '/etc/apt/sources.list.d/ks-bundle.sources', '/etc/pip.conf', '/etc/containerd/certs.d/docker.io/hosts.toml']) {
        const lines = (await sb!.exec(n, `cat ${f}`)).stdout.split('\n').filter((l) => l.trim() && !l.startsWith('#') && !l.startsWith('['));
        expect(new Set(lines).size, `${n}:${f}`).toBe(lines.length);
      }
    }
  }, 900_000);

  it('`ks-bundle nodes restore -i conf/hosts.ini` gives back every original file byte for byte', async () => {
    const r = await sb!.exec('node1', `cd ${bundle} && ./bin/node bin/ks-bundle.mjs nodes restore -i conf/hosts.ini 2>&1`, { allowFail: true });
    expect(r.code, r.stdout).toBe(0);
    for (const n of NODES) expect(r.stdout).toMatch(new RegExp(`^${n}: ?\\n(?: +\\S+ \\S+\\n)* +restored /etc/apt/sources\\.list\\n`, 'm'));
    expect(await snapshots()).toEqual(pristine);
    // The key the inventory names really was the one node1 used (sanity of the fixture, not of the code).
    expect(existsSync(inNode1(keyPathInNode(sb!.node('node2'))))).toBe(true);
  });
});
