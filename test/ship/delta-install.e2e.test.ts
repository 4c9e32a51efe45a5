/**
 * A delta installed end to end over the release it was built on, with real parts only. Two releases of the demo are
 * built by the real CLI from local upstreams (docker-registry, the repacked-Debian wheel index, this machine's Debian
 * mirror through a loopback proxy): 0.2.0 adds the deb `tree`, moves docker.io/library/busybox:1.36 to another image
 * and changes the playbook to install and pull them. The taskbox (node1 of a TESTBED sandbox, with node2) installs
 * 0.1.0 from its tarball, then `install --offline` of the delta alone: the mirror must serve the union, and apt,
 * pip and containerd on the nodes get the new deb and image from it, or the install fails.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { serveStatic, wheelFixture } from '../fixtures/wheels/fixture.js';
import { startRegistry } from '../images/support.js';
import { REPO, runCli } from '../support/cli.js';
import { isRoot, requireTools } from '../support/tools.js';
import { carryIntoTaskbox, keyPathInNode, MULTI_NODE_VARS, removeDir, SANDBOX_NODES, startAptProxy, worldDir } from '../support/world.js';
import { createSandbox, type Sandbox } from '../testbed/sandbox.js';

const NODES = ['node1', 'node2'] as const;
const INSTALL = '--mode multi-node --yes --ignore-preflight --accept-new-host-keys -i /root/conf/hosts.ini -c /root/conf/vars.yml';

describe('install --offline DELTA on a taskbox that installed its base', () => {
  let work: string;
  const closers: Array<() => Promise<void>> = [];
  let sb: Sandbox | undefined;
  let newDigest: string;
  /** The CLI as the taskbox has it: the base's own bin/node and bin/ks-bundle.mjs, from the unpacked tarball. */
  const cli = '/root/usb/ks-demo-0.1.0/bin/node /root/usb/ks-demo-0.1.0/bin/ks-bundle.mjs';
  const install = (tar: string) => sb!.exec('node1', `${cli} install --offline ${tar} ${INSTALL} 2>&1`, { allowFail: true });

  beforeAll(async () => {
    expect(isRoot(), 'the sandbox needs root').toBe(true);
    requireTools('docker-registry', 'skopeo', 'umoci', 'debootstrap', 'unshare', 'nsenter', 'ip', 'ssh-keygen', 'sha256sum', 'tar');
    work = worldDir('ksb-delta-e2e-');
    const registry = await startRegistry(join(work, 'registry'));
    closers.push(() => registry.stop());
    const layout = buildFixtureImages(join(work, 'images'));
    await pushFixture(layout, 'busybox', `${registry.host}/library/busybox:1.36`);
    const wheels = await serveStatic(wheelFixture());
    closers.push(() => wheels.close());
    const apt = await startAptProxy({ anyPort: true });
    closers.push(() => apt.close());

    // The demo manifest and playbook, pointed at these upstreams, as release 0.1.0 and 0.2.0.
    const demo = readFileSync(join(REPO, 'manifests/demo.yaml'), 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('#')) // its header names the demo's fixed ports
      .join('\n')
      .replace('endpoint: 127.0.0.1:47311', `endpoint: ${registry.host}`)
      .replace('http://127.0.0.1:47313/debian', apt.url)
      .replace('http://127.0.0.1:47312/simple/', `${wheels.url}/simple/`);
    expect(demo).not.toMatch(/4731[123]/);
    const release = (version: string, edit: (manifest: string, playbook: string) => [string, string]) => {
      const dir = join(work, version);
      mkdirSync(dir, { recursive: true });
      cpSync(join(REPO, 'manifests/demo-playbook'), join(dir, 'demo-playbook'), { recursive: true });
      const [m, p] = edit(demo.replace('version: 0.1.0', `version: ${version}`), readFileSync(join(dir, 'demo-playbook/site.yml'), 'utf8'));
      writeFileSync(join(dir, 'demo.yaml'), m);
      writeFileSync(join(dir, 'demo-playbook/site.yml'), p);
      return join(dir, 'demo.yaml');
    };
    const cache = join(work, 'cache');
    const base = join(work, 'out', 'ks-demo-0.1.0.tar');
    const b1 = await runCli(['build', '-m', release('0.1.0', (m, p) => [m, p]), '-o', base, '--cache', cache]);
    expect(b1.code, b1.stderr).toBe(0);
    // The next release: a deb more, the tag moved to another image, the playbook installing and pulling them.
    await pushFixture(layout, 'app', `${registry.host}/library/busybox:1.36`);
    const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/library/busybox:1.36`]);
    newDigest = 'sha256:' + execFileSync('sha256sum', { input: raw, encoding: 'utf8' }).slice(0, 64);
    const next = release('0.2.0', (m, p) => [m.replace('      - containerd\n', '      - containerd\n      - tree\n'), p.replace('demo_packages: [socat,', 'demo_packages: [tree, socat,')]);
    expect(readFileSync(next, 'utf8')).toContain('- tree');
    const delta = join(work, 'out', 'ks-demo-0.2.0-delta.tar');
    const b2 = await runCli(['build', '-m', next, '-o', delta, '--cache', cache, '--since', base]);
    expect(b2.code, b2.stderr).toBe(0);
    for (const c of closers.splice(0).reverse()) await c();

    sb = await createSandbox({ nodes: SANDBOX_NODES.filter((n) => (NODES as readonly string[]).includes(n.name)), defaultRoute: true });
    carryIntoTaskbox(sb, base, '/root/base.tar');
    carryIntoTaskbox(sb, delta, '/root/delta.tar');
    await sb.exec('node1', 'mkdir -p /root/usb /root/conf && cd /root/usb && tar xf /root/base.tar');
    writeFileSync(join(sb.rootOf('node1'), 'root/conf/hosts.ini'), sb.inventoryIni({ localNode: 'node1', keyPath: keyPathInNode }), { mode: 0o600 });
    writeFileSync(join(sb.rootOf('node1'), 'root/conf/vars.yml'), MULTI_NODE_VARS);
  }, 1_800_000);

  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    await sb?.teardown();
    if (work) removeDir(work);
  });

  it('serves the union: the nodes get the new deb and the moved image from the mirror, nothing is missed, and unchanged files are links into the base', async () => {
    const first = await install('/root/base.tar');
    expect(first.code, first.stdout).toBe(0);
    for (const n of NODES) expect((await sb!.exec(n, 'dpkg-query -W tree', { allowFail: true })).code, n).not.toBe(0);

    const r = await install('/root/delta.tar');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('mirror miss log: empty');
    for (const n of NODES) {
      expect((await sb!.exec(n, "dpkg-query -W -f '${Package} ${Status}' tree")).stdout.trim(), n).toBe('tree install ok installed');
      expect((await sb!.exec(n, 'cat /var/lib/ks-demo/busybox.digest')).stdout.trim(), n).toBe(newDigest);
    }
    // The mirror now running is the new release's: it names its root digest on /healthz.
    const sums = (await sb!.exec('node1', 'sha256sum < /var/lib/ks-bundle/ks-demo-0.2.0/SHA256SUMS')).stdout.slice(0, 64);
    const healthz = await sb!.exec('node1', `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:5080/healthz").headers["x-ks-bundle-serves"])'`);
    expect(healthz.stdout.trim()).toBe(sums);
    // The release folder is whole (sha256sum agrees), and a file the delta did not carry is the base's own inode.
    await sb!.exec('node1', 'cd /var/lib/ks-bundle/ks-demo-0.2.0 && sha256sum -c --quiet SHA256SUMS');
    const inode = async (v: string) => (await sb!.exec('node1', `stat -c %i /var/lib/ks-bundle/ks-demo-${v}/bin/node`)).stdout.trim();
    expect(await inode('0.2.0')).toBe(await inode('0.1.0'));
  }, 3_600_000);
});
