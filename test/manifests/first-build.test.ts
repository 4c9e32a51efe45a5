import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';
import { isRoot, requireTools } from '../support/tools.js';

/**
 * A new user's first build of the default manifest, with no environment at all (env -i, PATH and HOME only), in a
 * network namespace of its own that has only loopback: nothing public is ever reached, so every source the build
 * names must fail as a network error, and the build must get that far (past validation, with no variable to set).
 */
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the default manifest with no setup, where nothing public answers', () => {
  it('gets past validation and names every public source it tried, each a network error', { timeout: 600_000 }, async () => {
    expect(isRoot(), 'unshare -n needs root').toBe(true);
    requireTools('unshare', 'ip', 'env');
    const home = await mkdtemp(join(tmpdir(), 'ksb-first-build-'));
    dirs.push(home);
    const r = await runCli(['build', '-m', join(REPO, 'manifests/kubesphere.yaml'), '-o', join(home, 'out.tar'), '--concurrency', '16'], {
      cwd: home,
      // A fresh network namespace holds only a loopback, down until raised; the environment is emptied for good
      // measure after the namespace is made, so no proxy or mirror variable of this machine leaks in.
      wrap: ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec env -i PATH="$P" HOME="$H" "$@"', 'sh'],
      env: { P: process.env.PATH ?? '/usr/bin:/bin', H: home },
    });
    const err = r.stderr;
    expect(r.code, err).toBe(1);
    // Past validation: no variable asked for, no manifest problem.
    expect(err).not.toMatch(/needs the environment variable|problems?\n/);
    expect(err).not.toMatch(/this is unexpected/);
    expect(err).toMatch(/^error: \d+ artifacts could not be fetched from any source:$/m);

    // Every source tried, with why: only network errors, as nothing public is reachable from here.
    const tried = [...err.matchAll(/^ {2}(\S+): ([a-z-]+): /gm)].map((m) => ({ source: m[1]!, error: m[2]! }));
    expect(tried.length).toBeGreaterThan(0);
    for (const t of tried) expect(t.error, t.source).toBe('network');
    const sources = tried.map((t) => t.source);

    // The images: each original, and for KubeSphere's the copy in registry.cn-beijing.aliyuncs.com/kubesphereio/.
    for (const s of ['quay.io/calico/node:v3.26.4', 'registry.k8s.io/pause:3.9', 'docker.io/kubesphere/ks-console:v3.4.1', 'docker.io/prom/prometheus:v2.39.1'])
      expect(sources, s).toContain(s);
    for (const s of ['registry.cn-beijing.aliyuncs.com/kubesphereio/ks-console:v3.4.1', 'registry.cn-beijing.aliyuncs.com/kubesphereio/prometheus:v2.39.1'])
      expect(sources, s).toContain(s);
    expect(sources.filter((s) => s.startsWith('registry.cn-beijing.aliyuncs.com/kubesphereio/'))).toHaveLength(17);
    expect(err).toMatch(/^hint: network: .*HTTPS_PROXY/m);
  });
});
