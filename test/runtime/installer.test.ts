import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';
import { buildOneFileBundle } from '../support/one-file-bundle.js';
import { requireTools } from '../support/tools.js';
import { manifestHead } from '../support/manifest-head.js';

let dir: string;
/** The bundle as GNU tar unpacks it on a taskbox: outside the repository, with no node_modules anywhere above it. */
let root: string;

beforeAll(async () => {
  requireTools('tar', 'sha256sum', 'find', 'setpriv', 'chown');
  dir = await mkdtemp(join(tmpdir(), 'ksb-installer-'));
  await buildOneFileBundle(dir, { name: 'inst', bytes: 10_000, out: join(dir, 'inst.tar'), bundled: true });
  root = await unpack(join(dir, 'inst.tar'), join(dir, 'x'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function unpack(tarball: string, into: string): Promise<string> {
  await mkdir(into);
  execFileSync('tar', ['-xf', tarball, '-C', into]);
  return join(into, (await readdir(into))[0]!);
}

/** SHA256SUMS as sha256sum writes it: path → digest. */
async function sums(bundleRoot: string): Promise<Map<string, string>> {
  const text = await readFile(join(bundleRoot, 'SHA256SUMS'), 'utf8');
  return new Map(text.trim().split('\n').map((l) => [l.slice(66), l.slice(0, 64)]));
}

/** The bundle's own CLI, with the bundle's own node, as install.sh starts it. */
function bundleCli(bundleRoot: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(join(bundleRoot, 'bin/node'), [join(bundleRoot, 'bin/ks-bundle.mjs'), ...args], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the installer a bundle carries (bin/ks-bundle.mjs and its modules)', () => {
  it('carries every module of the built CLI under bin/ks-bundle/, each listed in SHA256SUMS and checked by sha256sum -c', async () => {
    const built = (await readdir(join(REPO, 'dist/ks-bundle'))).sort();
    expect(built).toContain('main.mjs');
    expect(built.length).toBeGreaterThan(10);
    expect((await readdir(join(root, 'bin/ks-bundle'))).sort()).toEqual(built);
    const listed = await sums(root);
    const files = execFileSync('find', ['bin', '-type', 'f'], { cwd: root, encoding: 'utf8' }).trim().split('\n').sort();
    expect(files).toEqual(['bin/ks-bundle.mjs', 'bin/node', ...built.map((n) => `bin/ks-bundle/${n}`)].sort());
    for (const f of files) expect(listed.has(f), f).toBe(true);
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: root });
  });

  it('runs on its own: --help names every command, verify checks the bundle, sbom loads the SBOM library from bin/ks-bundle/', async () => {
    const help = bundleCli(root, ['--help']);
    expect(help.code, help.stderr).toBe(0);
    for (const c of ['plan', 'build', 'verify', 'inspect', 'serve', 'install', 'push', 'nodes', 'split', 'keygen', 'sign', 'sbom', 'diff']) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const verify = bundleCli(root, ['verify', root, '--allow-missing']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok {7}every file matches SHA256SUMS/m);
    const sbom = bundleCli(root, ['sbom', join(dir, 'inst.tar')]);
    expect(sbom.code, sbom.stderr).toBe(0);
    expect(JSON.parse(sbom.stdout)).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6' });
    // A usage error still exits 2, naming the option, from the bundle's copy as from the package's.
    const bad = bundleCli(root, ['split', join(dir, 'inst.tar'), '--size', '7Q']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--size/);
  });

  it('a build run by the unpacked bundle\'s CLI packs that same CLI into the new bundle', async () => {
    const m = join(dir, 'again.yaml');
    await writeFile(m, manifestHead('again'));
    const r = bundleCli(root, ['build', '-m', m, '-o', join(dir, 'again.tar'), '--cache', join(dir, 'cache')]);
    expect(r.code, r.stderr).toBe(0);
    const again = await unpack(join(dir, 'again.tar'), join(dir, 'y'));
    const first = await sums(root);
    const second = await sums(again);
    const installer = [...first.keys()].filter((p) => p === 'bin/ks-bundle.mjs' || p.startsWith('bin/ks-bundle/'));
    expect(installer.length).toBeGreaterThan(10);
    expect([...second.keys()].filter((p) => p === 'bin/ks-bundle.mjs' || p.startsWith('bin/ks-bundle/'))).toEqual(installer);
    for (const p of installer) expect(second.get(p), p).toBe(first.get(p));
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: again });
    expect(bundleCli(again, ['verify', again, '--allow-missing']).code).toBe(0);
  });

  it('with the Node 24 a bundle carries by default, keeps the code Node compiled in a folder only this user writes, and answers the same from it', async () => {
    const m = join(dir, 'npm.yaml');
    await writeFile(m, 'apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: npmrt, version: 1.0.0}\nspec:\n  targets: [{os: debian-12, arch: amd64}]\n');
    const built = await runCli(['build', '-m', m, '-o', join(dir, 'npmrt.tar'), '--cache', join(dir, 'cache')], { bundled: true });
    expect(built.code, built.stderr).toBe(0);
    const npmRoot = await unpack(join(dir, 'npmrt.tar'), join(dir, 'z'));
    const version = execFileSync(join(npmRoot, 'bin/node'), ['--version'], { encoding: 'utf8' }).trim();
    expect(Number(/^v(\d+)\./.exec(version)![1])).toBeGreaterThanOrEqual(22);
    const files = (folder: string) => (existsSync(folder) ? execFileSync('find', [folder, '-type', 'f'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean) : []);
    // The `checked` line says how long the read took; every other line is the same from a cold and a warm cache.
    const answer = (r: { stdout: string }) => r.stdout.split('\n').filter((l) => !l.startsWith('checked'));

    // Another user: their own ks-bundle cache.
    await chmod(dir, 0o755);
    const theirs = join(dir, 'nobody-cache');
    await mkdir(theirs);
    execFileSync('chown', ['nobody:nogroup', theirs]);
    const asNobody = (): { code: number; stdout: string; stderr: string } => {
      try {
        const stdout = execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', join(npmRoot, 'bin/node'), join(npmRoot, 'bin/ks-bundle.mjs'), 'verify', npmRoot, '--allow-missing'], {
          cwd: '/', env: { PATH: process.env.PATH, HOME: '/nonexistent', KS_BUNDLE_CACHE: theirs }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
        });
        return { code: 0, stdout, stderr: '' };
      } catch (err) {
        const e = err as { status: number; stdout: string; stderr: string };
        return { code: e.status, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const first = asNobody();
    expect(first.code, first.stderr).toBe(0);
    expect(answer(first)).toContainEqual(expect.stringMatching(/^ok {7}every file matches SHA256SUMS/));
    expect(files(join(theirs, 'compile-cache')).length).toBeGreaterThan(0);
    const second = asNobody();
    expect(second.code, second.stderr).toBe(0);
    expect(answer(second)).toEqual(answer(first));

    // root (the installer): the data dir's folder, never one that HOME or KS_BUNDLE_CACHE name.
    const env = { HOME: join(dir, 'home'), KS_BUNDLE_CACHE: join(dir, 'root-cache') };
    // What an earlier run left for this Node goes first (it is a cache): what is there after this run, this run wrote.
    const rootCache = '/var/lib/ks-bundle/compile-cache';
    for (const n of existsSync(rootCache) ? await readdir(rootCache) : []) if (n.startsWith(`${version}-`)) await rm(join(rootCache, n), { recursive: true, force: true });
    const asRoot = bundleCli(npmRoot, ['verify', npmRoot, '--allow-missing'], env);
    expect(asRoot.code, asRoot.stderr).toBe(0);
    expect(answer(asRoot)).toEqual(answer(first));
    expect(existsSync(env.HOME) || existsSync(env.KS_BUNDLE_CACHE)).toBe(false);
    const forThisNode = (await readdir(rootCache)).filter((n) => n.startsWith(`${version}-`));
    expect(forThisNode.length).toBeGreaterThan(0);
    expect(files(join(rootCache, forThisNode[0]!)).length).toBeGreaterThan(0);
  });
});
