import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedPipEnv } from '../fixtures/wheels/fixture.js';
import { hostApt } from '../apt/host-apt.js';
import { runCli } from '../support/cli.js';
import { serveCli } from '../mirror/support.js';
import { requireTools } from '../support/tools.js';
import { sha256sum } from '../support/sha256sum.js';
import { buildTwoBundles, type TwoBundles } from './two-bundles.js';

let dir: string;
let two: TwoBundles;
let delta: string;

const listing = (tar: string) => execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n').filter((l) => l && !l.endsWith('/'));
const member = (tar: string, path: string) => execFileSync('tar', ['-xOf', tar, path], { maxBuffer: 1 << 28 });

/** `ks-bundle serve` on loopback, on a port the system picks. */
const serve = (args: string[]) => serveCli([...args, '--listen', '127.0.0.1', '--port', '0']);

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci', 'tar', 'apt-get', 'dpkg-deb', 'curl', 'cmp', 'python3');
  dir = await mkdtemp(join(tmpdir(), 'ksb-delta-'));
  two = await buildTwoBundles(dir);
  delta = join(dir, 'out', 'ship-1.1.0-delta.tar');
  const r = await two.buildNew(delta, ['--since', two.old]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/delta\s+over ship 1\.0\.0: \d+ file\(s\) left to it/);
});

afterAll(async () => {
  await two?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('build --since OLD', () => {
  it('holds only what OLD lacks, names its base in bundle.yaml and the lock, and lists the whole release in SHA256SUMS', async () => {
    const files = listing(delta).map((p) => p.replace(/^ship-1\.1\.0\//, ''));
    const oldFiles = listing(two.old).map((p) => p.replace(/^ship-1\.0\.0\//, ''));
    expect(files).toContain('repos/files/a.bin');
    expect(files).not.toContain('repos/files/b.bin');
    expect(oldFiles.filter((f) => f.endsWith('.deb')).some((f) => files.includes(f))).toBe(false);
    expect(files.some((f) => /\/ipset_[^/]+\.deb$/.test(f))).toBe(true);
    expect(files).not.toContain('bin/node');
    const oldSumsDigest = execFileSync('sha256sum', { input: member(two.old, 'ship-1.0.0/SHA256SUMS'), encoding: 'utf8' }).slice(0, 64);
    const meta = member(delta, 'ship-1.1.0/bundle.yaml').toString();
    expect(meta).toContain(`base:\n  name: ship\n  version: 1.0.0\n  sha256sums: ${oldSumsDigest}\n`);
    expect(member(delta, 'ship-1.1.0/bundle.lock.yaml').toString()).toContain(`base:\n  name: ship\n  version: 1.0.0\n  sha256sums: ${oldSumsDigest}\n`);
    // The delta lists the full release: the same SHA256SUMS as NEW built in full, but for bundle.yaml's and the lock's base.
    const full = member(two.new, 'ship-1.1.0/SHA256SUMS').toString().split('\n').filter((l) => !l.endsWith('  bundle.lock.yaml'));
    const listed = member(delta, 'ship-1.1.0/SHA256SUMS').toString().split('\n').filter((l) => !l.endsWith('  bundle.lock.yaml'));
    expect(listed).toEqual(full);
    const sizes = { delta: (await stat(delta)).size, full: (await stat(two.new)).size };
    expect(sizes.delta).toBeLessThan(sizes.full / 4);
  });

  it('--since OLD.lock.yaml (the lock beside the bundle) gives a delta with the same SHA256SUMS and base', async () => {
    const fromLock = join(dir, 'out', 'ship-1.1.0-delta-lock.tar');
    const r = await two.buildNew(fromLock, ['--since', `${two.old}.lock.yaml`]);
    expect(r.code, r.stderr).toBe(0);
    expect(member(fromLock, 'ship-1.1.0/SHA256SUMS').equals(member(delta, 'ship-1.1.0/SHA256SUMS'))).toBe(true);
    expect(listing(fromLock)).not.toContain('ship-1.1.0/repos/files/b.bin');
    expect((await runCli(['verify', fromLock])).code).toBe(0);
  });

  it('verify DELTA passes and says which base the rest comes from', async () => {
    const v = await runCli(['verify', delta]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/delta\s+over ship 1\.0\.0 \(sha256sums [0-9a-f]{12}…\): \d+ listed file\(s\) come from it/);
  });
});

describe('installing a delta over its base', () => {
  it('is refused without its base, naming the base (serve and install --offline), exit 2', async () => {
    const empty = join(dir, 'empty-data');
    const s = await runCli(['serve', delta, '--data-dir', empty, '--port', '0']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`is a delta over ship 1.0.0`);
    expect(s.stderr).toContain(join(empty, 'ship-1.0.0'));
    const i = await runCli(['install', '--offline', delta, '--only', 'init', '--data-dir', empty]);
    expect(i.code).toBe(2);
    expect(i.stderr).toContain('is a delta over ship 1.0.0');
  });

  it('serve DELTA --base OLD serves the union to skopeo, apt and pip; unchanged files are hard links into the base', async () => {
    const data = join(dir, 'data');
    const m = await serve([delta, '--base', two.old, '--data-dir', data]);
    try {
      // Images: the moved tag gives NEW's digest.
      const want = JSON.parse(member(two.new, 'ship-1.1.0/repos/images/index.json').toString()).manifests.find((x: any) => Object.values(x.annotations ?? {}).includes('docker.io/library/busybox:1.36')).digest;
      const host = m.url.replace('http://', '');
      const inspected = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/library/busybox:1.36`], { encoding: 'utf8' }));
      expect(inspected.Digest).toBe(want);
      execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${host}/library/busybox:1.36`, `oci:${join(dir, 'pulled')}:x`]);
      // Files: the changed one from the delta, the unchanged one from the base.
      for (const [path, want] of [['a.bin', two.files.aNew], ['b.bin', two.files.b]] as const) {
        execFileSync('curl', ['-sf', '-o', join(dir, `got-${path}`), `${m.url}/files/${path}`]);
        execFileSync('cmp', [join(dir, `got-${path}`), want]);
      }
      // apt: the union's index, signed at build time, with the old deb (socat, from the base) and the new one.
      const union = join(data, 'ship-1.1.0');
      const apt = hostApt(join(dir, 'apt'), [{ name: 'm', url: `${m.url}/apt/debian-12`, suites: ['bookworm'], components: ['main'], keyring: join(union, 'repos/apt/ks-bundle.gpg') }], '/dev/null');
      execFileSync('apt-get', [...apt.args, '-q', 'update'], { stdio: 'pipe' });
      const dl = join(dir, 'apt-dl');
      await mkdir(dl);
      execFileSync('apt-get', [...apt.args, '-q', 'download', 'socat', 'ipset'], { cwd: dl, stdio: 'pipe' });
      expect((await readdir(dl)).map((f) => f.split('_')[0]).sort()).toEqual(['ipset', 'socat']);
      // pip: the wheel, from the base, through the union's index.
      const pipDir = join(dir, 'pip-dl');
      execFileSync('python3', ['-m', 'pip', 'download', '--isolated', '--no-deps', '--index-url', `${m.url}/pypi/simple/`, '-d', pipDir, 'netaddr'], { env: isolatedPipEnv(), stdio: 'pipe' });
      expect((await readdir(pipDir)).some((f) => /^netaddr-.*\.whl$/.test(f))).toBe(true);
      // The union is a complete release folder: sha256sum -c agrees; b.bin is the base's own inode.
      execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: union });
      const [u, b] = await Promise.all([stat(join(union, 'repos/files/b.bin')), stat(join(data, 'ship-1.0.0', 'repos/files/b.bin'))]);
      expect(u.ino).toBe(b.ino);
      expect(u.nlink).toBeGreaterThanOrEqual(2);
      expect((await stat(join(union, 'repos/files/a.bin'))).nlink).toBe(1);
    } finally {
      await m.stop();
    }
  });

  it('a hostile delta whose SHA256SUMS lists paths outside its folder is refused (exit 3) naming the entry; nothing is written or linked outside', async () => {
    // What the listing points at is in the base (b.bin's sha256): a careless fill would hard-link it there.
    const sha = sha256sum(two.files.b);
    const outside = join(dir, 'hostile-outside');
    await mkdir(outside);
    const cases: Array<[string, string]> = [
      ['parent', '../../hostile-outside/escaped.bin'],
      ['inside-then-up', 'repos/files/../../../../hostile-outside/up.bin'],
      ['absolute', `${outside}/absolute.bin`],
    ];
    for (const [name, path] of cases) {
      const hostile = join(dir, 'out', `hostile-${name}.tar`);
      execFileSync('python3', [join(import.meta.dirname, 'craft-delta.py'), delta, hostile, `${sha}  ${path}`]);
      // The crafted delta verifies: its SHA256SUMS matches its bundle.yaml; the path is caught where it is used.
      expect((await runCli(['verify', hostile])).code).toBe(0);
      const data = join(dir, `hostile-data-${name}`);
      const r = await runCli(['serve', hostile, '--base', two.old, '--data-dir', data, '--listen', '127.0.0.1', '--port', '0']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`SHA256SUMS: ${JSON.stringify(path)}`);
      expect(r.stderr).toMatch(/a delta's file must be a path inside the bundle/);
      // Nothing left behind: no half-filled release beside the base, and no file of the base linked anywhere.
      expect(await readdir(data)).toEqual(['ship-1.0.0']);
      expect(execFileSync('find', [data, '-type', 'f', '-links', '+1'], { encoding: 'utf8' })).toBe('');
    }
    expect(await readdir(outside)).toEqual([]);
    expect(existsSync(join(dir, 'hostile-outside', 'escaped.bin'))).toBe(false);
  });

  it('serve DELTA finds its base in the data dir where an earlier install left it', async () => {
    const m = await serve([delta, '--data-dir', join(dir, 'data')]);
    try {
      execFileSync('curl', ['-sf', '-o', join(dir, 'again-b.bin'), `${m.url}/files/b.bin`]);
      execFileSync('cmp', [join(dir, 'again-b.bin'), two.files.b]);
    } finally {
      await m.stop();
    }
  });
});
