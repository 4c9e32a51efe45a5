import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';
import { isRoot, requireTools } from '../support/tools.js';
import { exec } from '../apt/exec.js';
import { loadManifest } from '../../src/manifest/load.js';

/**
 * A new user's first plan of the default manifest, with no environment at all (env -i, PATH and HOME only), in a
 * network namespace of its own that has only loopback: nothing public is ever reached, so every source the plan
 * names must fail as a network error, and it must get that far (past validation, with no variable to set).
 */
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The Debian archive this machine's apt uses for its release's main suite, as apt itself lists it. */
async function hostDebianArchive(): Promise<string> {
  const codename = /^VERSION_CODENAME=(\S+)$/m.exec(await readFile('/etc/os-release', 'utf8'))?.[1];
  const r = await exec('apt-get', ['indextargets', '--no-release-info', '--format', '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)']);
  const line = r.stdout.split('\n').find((l) => l.startsWith('deb ') && l.endsWith(` ${codename} main`));
  expect(line, `apt has no deb source for ${codename} main`).toBeDefined();
  return line!.split(' ')[1]!;
}

describe('the default manifest with no setup, where nothing public answers', () => {
  it('plan gets past validation and names every public source it tried, each a network error', { timeout: 600_000 }, async () => {
    expect(isRoot(), 'unshare -n needs root').toBe(true);
    requireTools('unshare', 'ip', 'env', 'apt-get');
    const home = await mkdtemp(join(tmpdir(), 'ksb-first-build-'));
    dirs.push(home);
    const r = await runCli(['plan', '-m', join(REPO, 'manifests/kubesphere.yaml'), '-o', join(home, 'out.tar'), '--json', '--concurrency', '16'], {
      cwd: home,
      // A fresh network namespace holds only a loopback, down until raised; the environment is emptied after the
      // namespace is made, so no proxy or mirror variable of this machine leaks in.
      wrap: ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec env -i PATH="$P" HOME="$H" "$@"', 'sh'],
      env: { P: process.env.PATH ?? '/usr/bin:/bin', H: home },
    });
    expect(r.code, r.stderr).toBe(1);
    // Past validation: no variable asked for, no manifest problem, nothing "unexpected".
    expect(r.stderr).not.toMatch(/needs the environment variable|problems?\n|this is unexpected/);
    expect(r.stderr).toMatch(/^error: \d+ artifacts could not be fetched from any source:$/m);
    expect(r.stderr).toMatch(/^hint: network: .*HTTPS_PROXY/m);

    const plan = JSON.parse(r.stdout) as { kinds: Record<string, unknown>; unavailable: Array<{ kind: string; name: string; tried: Array<{ source: string; error: string }> }> };
    expect(Object.keys(plan.kinds).sort()).toEqual(['debs', 'files', 'images', 'manifests', 'playbooks', 'runtime', 'wheels']);
    const tried = plan.unavailable.flatMap((u) => u.tried.map((t) => ({ ...t, kind: u.kind })));
    expect(tried.length).toBeGreaterThan(0);
    // Only network errors: nothing public is reachable from here.
    for (const t of tried) expect(t.error, `${t.kind} ${t.source}`).toBe('network');
    const sources = (kind: string) => tried.filter((t) => t.kind === kind).map((t) => t.source);

    // Images: each original, and for KubeSphere's seventeen the copy in registry.cn-beijing.aliyuncs.com/kubesphereio/.
    for (const s of ['quay.io/calico/node:v3.26.4', 'registry.k8s.io/pause:3.9', 'docker.io/kubesphere/ks-console:v3.4.1', 'docker.io/prom/prometheus:v2.39.1'])
      expect(sources('images'), s).toContain(s);
    for (const s of ['registry.cn-beijing.aliyuncs.com/kubesphereio/ks-console:v3.4.1', 'registry.cn-beijing.aliyuncs.com/kubesphereio/prometheus:v2.39.1'])
      expect(sources('images'), s).toContain(s);
    expect(sources('images').filter((s) => s.startsWith('registry.cn-beijing.aliyuncs.com/kubesphereio/'))).toHaveLength(17);

    // Debs: Ubuntu's public archives, and the Debian archive this machine's own apt uses.
    const debs = sources('debs');
    for (const archive of ['http://archive.ubuntu.com/ubuntu/dists/noble/', 'http://security.ubuntu.com/ubuntu/dists/jammy-security/', 'http://ports.ubuntu.com/ubuntu-ports/dists/noble/'])
      expect(debs, archive).toContain(archive);
    expect(debs).toContain(`${await hostDebianArchive()}dists/bookworm/`);
    // Wheels: PyPI.
    expect(sources('wheels').length).toBeGreaterThan(0);
    for (const s of sources('wheels')) expect(s).toBe('https://pypi.org/simple/');

    // Every kind was planned and tried: kubespray's downloads, ks-installer's manifests, the kubespray archive, and
    // the Node.js runtime from the npm registry this machine's npm names.
    expect(new Set(plan.unavailable.map((u) => u.kind))).toEqual(new Set(['images', 'files', 'debs', 'wheels', 'manifests', 'playbooks', 'runtime']));
    const m = await loadManifest(join(REPO, 'manifests/kubesphere.yaml'), { buildMachine: { urls: { debian: 'http://x/debian', 'debian-security': 'http://x/debian-security' }, why: {} } });
    expect(new Set(sources('files'))).toEqual(new Set(m.files.map((f) => f.url)));
    expect(new Set(sources('manifests'))).toEqual(new Set(m.manifests.map((f) => f.url)));
    expect(sources('playbooks')).toEqual([m.playbooks!.url]);
    for (const arch of ['x64', 'arm64']) expect(sources('runtime').some((s) => new RegExp(`/node-linux-${arch}/\\d+\\.\\d+\\.\\d+$`).test(s)), arch).toBe(true);
  });
});
