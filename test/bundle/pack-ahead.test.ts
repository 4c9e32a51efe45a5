/**
 * A second build from a warm cache packs what the build before packed while it asks the registry again; what it keeps
 * must still be what the registry serves now. Real parts: docker-registry on loopback, the umoci fixture images pushed
 * with skopeo, a local playbooks folder (bodies the cache does not hold), GNU tar and sha256sum as oracles; every
 * expected digest comes from skopeo or sha256sum.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { startRegistry, upstreamDigest, type Registry } from '../images/support.js';
import { manifestHead } from '../support/manifest-head.js';

let tmp: string;
let registry: Registry;
let layout: string;
let manifestFile: string;
const mounts: string[] = [];
const out = (name: string) => join(tmp, 'out', name);

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci', 'tar', 'sha256sum', 'cmp');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-pack-ahead-'));
  registry = await startRegistry(join(tmp, 'registry'));
  layout = buildFixtureImages(join(tmp, 'fixture'));
  await pushFixture(layout, 'app', `${registry.host}/library/app:1.0`);
  mkdirSync(join(tmp, 'pb', 'roles'), { recursive: true });
  writeFileSync(join(tmp, 'pb', 'site.yml'), '- hosts: all\n  tasks: []\n');
  writeFileSync(join(tmp, 'pb', 'roles', 'main.yml'), '- debug: {msg: hi}\n');
  mkdirSync(join(tmp, 'out'));
  manifestFile = join(tmp, 'ahead.yaml');
  writeFileSync(
    manifestFile,
    `${manifestHead('ahead')}  registries: {"${registry.host}": {insecure: true}}
  images: [${registry.host}/library/app:1.0]
  playbooks: {path: ./pb, entry: site.yml}
`,
  );
}, 120_000);

afterAll(async () => {
  for (const m of mounts) execFileSync('umount', [m]);
  await registry?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const build = async (name: string, to = out(name)) => {
  const r = await runCli(['build', '-m', manifestFile, '-o', to, '--cache', join(tmp, 'cache')]);
  expect(r.code, r.stderr).toBe(0);
};
const sidecarOk = (name: string) => execFileSync('sha256sum', ['-c', `${name}.sha256`], { cwd: join(tmp, 'out'), encoding: 'utf8' });
const lockedDigest = () => {
  const lock = load(readFileSync(join(tmp, 'ahead.lock.yaml'), 'utf8')) as { artifacts: Array<{ kind: string; extra?: { digest?: string } }> };
  return lock.artifacts.find((a) => a.kind === 'image')!.extra!.digest;
};
const layoutIndex = (name: string) => JSON.parse(execFileSync('tar', ['-xOf', out(name), 'ahead-1.0.0/repos/images/index.json'], { encoding: 'utf8' })) as { manifests: Array<{ digest: string }> };
const leftovers = () => readdirSync(join(tmp, 'out')).filter((n) => n.endsWith('.tmp'));

describe('a second build from a warm cache', () => {
  it('gives the same tarball byte for byte, with a sidecar sha256sum accepts, and leaves no temp file', async () => {
    await build('first.tar');
    await build('second.tar');
    execFileSync('cmp', [out('first.tar'), out('second.tar')]);
    expect(sidecarOk('second.tar')).toBe('second.tar: OK\n');
    expect(leftovers()).toEqual([]);
  });

  it('still sees a tag that moved: the bundle and the lock hold the image the registry serves now', async () => {
    const before = await upstreamDigest(`${registry.host}/library/app:1.0`);
    await pushFixture(layout, 'busybox', `${registry.host}/library/app:1.0`);
    const now = await upstreamDigest(`${registry.host}/library/app:1.0`);
    expect(now).not.toBe(before);
    await build('moved.tar');
    expect(lockedDigest()).toBe(now);
    expect(layoutIndex('moved.tar').manifests.map((m) => m.digest)).toEqual([now]);
    // The SBOM too (a second build of the same bundle takes it from the cache; this is another bundle).
    const sbom = execFileSync('tar', ['-xOf', out('moved.tar'), 'ahead-1.0.0/sbom.cdx.json'], { encoding: 'utf8' });
    expect(sbom).toContain(now.slice('sha256:'.length));
    expect(sbom).not.toContain(before.slice('sha256:'.length));
    expect(sidecarOk('moved.tar')).toBe('moved.tar: OK\n');
    expect(sha256sum(out('moved.tar'))).not.toBe(sha256sum(out('second.tar')));
    expect(leftovers()).toEqual([]);
    // And the build after that packs the new tarball again, the same bytes.
    await build('moved-again.tar');
    execFileSync('cmp', [out('moved.tar'), out('moved-again.tar')]);
    expect(sidecarOk('moved-again.tar')).toBe('moved-again.tar: OK\n');
  });

  it('packs a playbook file that changed on disk (to as many bytes) as it is now, and lists its new digest', async () => {
    writeFileSync(join(tmp, 'pb', 'roles', 'main.yml'), '- debug: {msg: yo}\n');
    await build('edited.tar');
    expect(execFileSync('tar', ['-xOf', out('edited.tar'), 'ahead-1.0.0/playbooks/roles/main.yml'], { encoding: 'utf8' })).toBe('- debug: {msg: yo}\n');
    const sums = execFileSync('tar', ['-xOf', out('edited.tar'), 'ahead-1.0.0/SHA256SUMS'], { encoding: 'utf8' });
    expect(sums).toContain(`${sha256sum(join(tmp, 'pb', 'roles', 'main.yml'))}  playbooks/roles/main.yml\n`);
    expect(sidecarOk('edited.tar')).toBe('edited.tar: OK\n');
    expect(leftovers()).toEqual([]);
  });

  it('into a disk that holds the bundle once but not twice, packs it as before (nothing ahead), and leaves only the bundle', async () => {
    const size = statSync(out('edited.tar')).size;
    const small = join(tmp, 'small');
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil((1.5 * size) / 4096) * 4096}`, 'tmpfs', small]);
    mounts.push(small);
    await build('small.tar', join(small, 'small.tar'));
    rmSync(join(small, 'small.tar'));
    await build('small.tar', join(small, 'small.tar'));
    execFileSync('cmp', [out('edited.tar'), join(small, 'small.tar')]);
    expect(execFileSync('sha256sum', ['-c', 'small.tar.sha256'], { cwd: small, encoding: 'utf8' })).toBe('small.tar: OK\n');
    expect(readdirSync(small).sort()).toEqual(['small.tar', 'small.tar.lock.yaml', 'small.tar.sha256']);
  });
});
