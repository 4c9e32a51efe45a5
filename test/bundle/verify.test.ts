import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile, stat, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '../../src/bundle/open.js';
import { CLI, REPO, runCli, type CliResult } from '../support/cli.js';
import { buildOneFileBundle } from '../support/one-file-bundle.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';

let dir: string;
let good: string;

beforeAll(async () => {
  requireTools('tar', 'gzip', 'sha256sum', 'python3', 'unshare', 'mount');
  dir = await mkdtemp(join(tmpdir(), 'ksb-verify-'));
  good = join(dir, 'good.tar');
  // The single-file CLI, as a bundle carries it: its packing thread is the one inlined by scripts/bundle-cli.mjs.
  await buildOneFileBundle(dir, { name: 'v', bytes: 300_000, out: good, bundled: true });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function craft(kind: string, opts: { gzip?: boolean; size?: number } = {}): Promise<string> {
  const out = join(dir, `${kind}.tar${opts.gzip ? '.gz' : ''}`);
  execFileSync('python3', [join(REPO, 'test/bundle/craft-tar.py'), good, out, kind, String(opts.size ?? 0)]);
  return out;
}

/** The CLI in a mount namespace of its own, with `mountArgs` mounted on `at` first (a small or read-only tmpfs). */
function runCliWithMount(at: string, mountArgs: string[], args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const script = `mount ${mountArgs.map((a) => `'${a}'`).join(' ')} '${at}' && exec "$@"`;
    const p = spawn('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', script, '_', process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('verify', () => {
  it('passes a good bundle, and says it skipped the user-editable conf/', async () => {
    const r = await runCli(['verify', good]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/skipped\s+conf\/hosts.ini, conf\/vars.yml/);
  });

  it('passes the same bundle unpacked by GNU tar, where sha256sum -c agrees', async () => {
    const x = join(dir, 'x');
    await mkdir(x);
    execFileSync('tar', ['-xf', good, '-C', x]);
    const root = join(x, (await readdir(x))[0]!);
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: root });
    // The single-file CLI, whose hashing threads are inlined by scripts/bundle-cli.mjs.
    expect((await runCli(['verify', root], { bundled: true })).code).toBe(0);
  });

  const MATRIX: Array<{ kind: string; problem: RegExp }> = [
    { kind: 'changed', problem: /changed: repos\/files\/a\.bin: sha256 [0-9a-f]{64}, SHA256SUMS says/ },
    { kind: 'missing', problem: /missing: repos\/files\/a\.bin: listed in SHA256SUMS but not in the bundle/ },
    { kind: 'unlisted', problem: /unlisted: repos\/files\/smuggled\.sh: in the bundle but not listed/ },
    { kind: 'sums', problem: /sums-mismatch: SHA256SUMS: SHA256SUMS does not match the sha256sums in bundle\.yaml/ },
    { kind: 'absolute', problem: /unsafe-path: \/tmp\/ks-bundle-evil-absolute: absolute path/ },
    { kind: 'dotdot', problem: /unsafe-path: v-1\.0\.0\/\.\.\/ks-bundle-evil-dotdot: path contains "\.\."/ },
    { kind: 'symlink', problem: /unsafe-path: repos\/files\/evil-link: link to \.\.\/.*etc\/passwd points outside the bundle/ },
    { kind: 'hardlink', problem: /unsafe-path: repos\/files\/evil-link: link to \/etc\/passwd points outside the bundle/ },
  ];

  it.each(MATRIX)('exit 3 and names the path: $kind', async ({ kind, problem }) => {
    const bad = await craft(kind);
    const r = await runCli(['verify', bad]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toMatch(problem);
  });

  it('exit 3 on a truncated tar', async () => {
    const bad = join(dir, 'truncated.tar');
    execFileSync('cp', [good, bad]);
    await truncate(bad, Math.floor((await stat(bad)).size / 2));
    const r = await runCli(['verify', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/corrupt: .*truncated\.tar: truncated or corrupt tar/);
  });

  it('exit 3 on a byte changed in the zero padding after a file, where no file hash reaches; the tarball sidecar agrees it is damaged', async () => {
    const bad = join(dir, 'padding.tar');
    execFileSync('cp', [good, bad]);
    await writeFile(`${bad}.sha256`, (await readFile(`${good}.sha256`, 'utf8')).replace(/good\.tar/, 'padding.tar'));
    // The first member whose size is not a whole number of blocks: its padding follows its last byte.
    const fh = await open(bad, 'r+');
    const header = Buffer.alloc(512);
    let at = 0;
    let name = '';
    for (;;) {
      await fh.read(header, 0, 512, at);
      const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
      name = header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
      if (size % 512) {
        at += 512 + size;
        break;
      }
      at += 512 + size;
    }
    await fh.write(Buffer.from([0x2a]), 0, 1, at);
    await fh.close();
    // GNU tar extracts the same files, but the tarball is not the one that was built.
    execFileSync('tar', ['-tf', bad]);
    expect(spawnSync('sha256sum', ['-c', `${bad}.sha256`], { cwd: dir }).status).not.toBe(0);
    const r = await runCli(['verify', bad]);
    expect(r.code, `${name}: ${r.stderr}`).toBe(3);
    expect(r.stderr).toMatch(/padding\.tar: truncated or corrupt tar \(bytes other than zeros in the padding at byte \d+\)/);
  });

  it('exit 3 on a tarball cut inside a file read by its range (the runtime, tens of MB), not a failure of this machine', async () => {
    const bad = join(dir, 'cut.tar');
    execFileSync('cp', [good, bad]);
    const listing = execFileSync('tar', ['-tvf', good], { encoding: 'utf8' }).split('\n');
    const big = listing.find((l) => Number(l.split(/\s+/)[2]) > 8 << 20)!;
    expect(big, listing.join('\n')).toBeDefined();
    // Cut 1 MiB into the big file: its header promises bytes the file no longer holds.
    const offset = Number(execFileSync('sh', ['-c', `tar -R -tvf ${good} | grep -F ' ${big.split(/\s+/).pop()}' | sed 's/^block \\([0-9]*\\):.*/\\1/'`], { encoding: 'utf8' }).trim());
    await truncate(bad, (offset + 1) * 512 + (1 << 20));
    expect(spawnSync('tar', ['-tf', bad]).status).not.toBe(0);
    const r = await runCli(['verify', bad]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/cut\.tar: truncated or corrupt tar/);
  });

  it('serve of a tarball cut inside a file unpacked by its range: exit 3, and the data dir keeps nothing of it', async () => {
    const bad = join(dir, 'cut-unpack.tar');
    execFileSync('cp', [good, bad]);
    const big = execFileSync('tar', ['-tvf', good], { encoding: 'utf8' }).split('\n').find((l) => Number(l.split(/\s+/)[2]) > 8 << 20)!;
    const offset = Number(execFileSync('sh', ['-c', `tar -R -tvf ${good} | grep -F ' ${big.split(/\s+/).pop()}' | sed 's/^block \\([0-9]*\\):.*/\\1/'`], { encoding: 'utf8' }).trim());
    await truncate(bad, (offset + 1) * 512 + (1 << 20));
    const data = join(dir, 'data-cut');
    const r = await runCli(['serve', bad, '--data-dir', data, '--port', '0']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/cut-unpack\.tar: truncated or corrupt tar/);
    expect(await readdir(data)).toEqual([]);
  });

  it('exit 3 on a corrupt tar header', async () => {
    const bad = join(dir, 'corrupt.tar');
    execFileSync('cp', [good, bad]);
    // Walk past the top folder's and bundle.yaml's entries, then scribble over the third header (SHA256SUMS's).
    const fh = await open(bad, 'r+');
    const header = Buffer.alloc(512);
    let at = 0;
    for (let entry = 0; entry < 2; entry++) {
      await fh.read(header, 0, 512, at);
      const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    await fh.read(header, 0, 512, at);
    expect(header.subarray(0, 100).toString('latin1')).toContain('SHA256SUMS');
    await fh.write(Buffer.from('garbage-garbage-garbage'), 0, 23, at);
    await fh.close();
    const r = await runCli(['verify', bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/truncated or corrupt tar|missing: SHA256SUMS/);
    // inspect reads only as far as the lock, past the scribbled header: a corrupt tar, not "no bundle.lock.yaml".
    const i = await runCli(['inspect', bad]);
    expect(i.code, i.stderr).toBe(3);
    expect(i.stderr).toMatch(/corrupt\.tar: truncated or corrupt tar \(corrupt header at byte \d+ \(checksum mismatch\)\)/);
    // The format version inspect names is the one bundle.yaml declares, as GNU tar extracts it.
    const declared = /^formatVersion: (\d+)$/m.exec(execFileSync('tar', ['-xOf', good, 'v-1.0.0/bundle.yaml'], { encoding: 'utf8' }))![1];
    expect((await runCli(['inspect', good])).stdout).toMatch(new RegExp(`^v 1\\.0\\.0 {2}\\(format ${declared}, from m\\.yaml\\)`));
  });

  it('exit 3 on a changed file in an unpacked folder', async () => {
    const x = join(dir, 'x2');
    await mkdir(x);
    execFileSync('tar', ['-xf', good, '-C', x]);
    const root = join(x, (await readdir(x))[0]!);
    await writeFile(join(root, 'repos/files/a.bin'), 'not the file');
    await writeFile(join(root, 'repos/files/extra'), 'smuggled');
    const r = await runCli(['verify', root]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/changed: repos\/files\/a\.bin/);
    expect(r.stderr).toMatch(/unlisted: repos\/files\/extra/);
  });
});

describe('safe unpack (serve unpacks a tarball before serving it)', () => {
  it.each(['absolute', 'dotdot', 'symlink', 'hardlink', 'changed'])('%s: exit 3, nothing written outside, no folder that looks complete', async (kind) => {
    const bad = await craft(kind);
    const data = join(dir, `data-${kind}`);
    const r = await runCli(['serve', bad, '--data-dir', data, '--port', '0']);
    expect(r.code).toBe(3);
    expect(existsSync('/tmp/ks-bundle-evil-absolute')).toBe(false);
    expect(existsSync(join(dir, 'ks-bundle-evil-dotdot'))).toBe(false);
    expect(existsSync(join(data, 'ks-bundle-evil-dotdot'))).toBe(false);
    expect(await readdir(data).catch(() => [])).toEqual([]);
  });
});

describe('hostile archives: what GNU tar would extract is what is verified', () => {
  it.each(['pax-path', 'gnu-longname'])('%s: a regular file whose ustar name looks like a folder is read under the name GNU tar gives it, and refused', async (kind) => {
    const bad = await craft(kind);
    // The oracle: GNU tar extracts the smuggled file under the long name.
    const x = join(dir, `gnu-${kind}`);
    await mkdir(x);
    execFileSync('tar', ['-xf', bad, '-C', x]);
    expect(await readFile(join(x, 'v-1.0.0/repos/files/smuggled.sh'), 'utf8')).toBe('echo smuggled\n');
    const r = await runCli(['verify', bad]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toMatch(/unlisted: repos\/files\/smuggled\.sh/);
    const data = join(dir, `data-${kind}`);
    expect((await runCli(['serve', bad, '--data-dir', data, '--port', '0'])).code).toBe(3);
    expect(await readdir(data)).toEqual([]);
  });

  it('a member SHA256SUMS does not list is refused before its body is written: 600 MB of zeros in a 300 MB data dir', async () => {
    const bad = await craft('unlisted-bomb', { gzip: true, size: 600 << 20 });
    expect((await stat(bad)).size).toBeLessThan((await stat(good)).size);
    const data = join(dir, 'data-bomb');
    await mkdir(data);
    const r = await runCliWithMount(data, ['-t', 'tmpfs', '-o', 'size=300m', 'tmpfs'], ['serve', bad, '--data-dir', data, '--port', '0']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/unlisted: repos\/files\/bomb: in the bundle but not listed in SHA256SUMS/);
    expect(r.stderr).not.toMatch(/space/i);
  });

  it('a gzip bundle without its trailer is refused, as GNU tar refuses it', async () => {
    const gz = join(dir, 'good.tar.gz');
    execFileSync('sh', ['-c', `gzip -c '${good}' > '${gz}'`]);
    expect((await runCli(['verify', gz])).code).toBe(0);
    const cut = join(dir, 'no-trailer.tar.gz');
    execFileSync('cp', [gz, cut]);
    await truncate(cut, (await stat(gz)).size - 8);
    expect(spawnSync('tar', ['-tzf', cut], { stdio: 'ignore' }).status).not.toBe(0);
    const r = await runCli(['verify', cut]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toMatch(/corrupt: .*no-trailer\.tar\.gz: truncated or corrupt tar \(the gzip stream does not end as gzip ends/);
  });

  it('a path listed twice in SHA256SUMS is refused, even when bundle.yaml vouches for that SHA256SUMS', async () => {
    const bad = await craft('dup-sums');
    const r = await runCli(['verify', bad]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toMatch(/corrupt: SHA256SUMS: line \d+ lists repos\/files\/a\.bin a second time/);
    expect(r.stderr).not.toMatch(/sums-mismatch/);
  });
});

describe('a failure of this machine is not a corrupt bundle: exit 1, saying what and where', () => {
  it('a data dir too small for the bundle: stopped before writing anything, with both figures', async () => {
    const data = join(dir, 'data-full');
    await mkdir(data);
    const r = await runCliWithMount(data, ['-t', 'tmpfs', '-o', 'size=5m', 'tmpfs'], ['serve', good, '--data-dir', data, '--port', '0']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`the unpacked bundle in ${data}: needs`);
    expect(r.stderr).toContain(`(${(await stat(good)).size} bytes), 5.0 MiB (5242880 bytes) free`);
    expect(r.stderr).not.toMatch(/integrity|corrupt/i);
  });

  // The disk-space checks count bytes; a file system out of inodes (or filled by another writer meanwhile) still
  // fails the write itself, and that must read as this machine's failure too.
  it('a data dir that cannot be written', async () => {
    const data = join(dir, 'data-ro');
    await mkdir(data);
    const r = await runCliWithMount(data, ['-t', 'tmpfs', '-o', 'ro,size=400m', 'tmpfs'], ['serve', good, '--data-dir', data, '--port', '0']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`read-only file system at ${data} while unpacking the bundle`);
  });

  // The tarball's size is free, so the check before unpacking passes; its files take more (tmpfs rounds each one up
  // to a page), so the disk fills while the big file (the runtime, written by a hashing thread) is being written.
  it('a data dir that fills up during the unpack: exit 1 naming the folder, nothing left in it', async () => {
    const data = join(dir, 'data-fills');
    await mkdir(data);
    const pages = Math.ceil((await stat(good)).size / 4096) * 4096;
    const r = await runCliWithMount(data, ['-t', 'tmpfs', '-o', `size=${pages}`, 'tmpfs'], ['serve', good, '--data-dir', data, '--port', '0']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`no space left in ${data} while unpacking the bundle`);
    expect(r.stderr).not.toMatch(/integrity|corrupt/i);
  });

  it('no space left for the tarball while packing: exit 1 naming the folder', async () => {
    const out = join(dir, 'out-full');
    await mkdir(out);
    const r = await runCliWithMount(out, ['-t', 'tmpfs', '-o', 'size=400m,nr_inodes=1', 'tmpfs'], ['build', '-m', join(dir, 'm.yaml'), '-o', join(out, 'b.tar'), '--cache', join(dir, 'cache')]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`no space left in ${out} while packing the bundle`);
  });
});

describe("bundle.yaml's name and version decide the unpack folder only once checked", () => {
  it('a version that climbs out of the data dir: exit 3 naming bundle.yaml, the folder it aims at untouched', async () => {
    const bad = await craft('version-escape');
    // The folder `join(data, 'v-/../../victim')` would be: the test's own dir/victim, with a file in it.
    const data = join(dir, 'data-escape', 'd');
    const victim = join(dir, 'data-escape', 'victim');
    await mkdir(victim, { recursive: true });
    await writeFile(join(victim, 'keep.txt'), 'mine');
    for (const args of [['serve', bad, '--data-dir', data, '--port', '0'], ['verify', bad], ['inspect', bad]]) {
      const r = await runCli(args);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(args[0] === 'inspect' ? 2 : 3);
      expect(r.stderr).toMatch(/bundle\.yaml.*version: "\/\.\.\/\.\.\/victim" contains "\/": it becomes a folder or file name/);
    }
    expect(await readdir(victim)).toEqual(['keep.txt']);
    expect(await readdir(data)).toEqual([]);
  });

  it('a bundle without name or version is refused, not unpacked into "undefined-undefined"', async () => {
    const bad = await craft('no-name');
    const data = join(dir, 'data-noname');
    const r = await runCli(['serve', bad, '--data-dir', data, '--port', '0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/bad-meta: bundle\.yaml: line 1: missing required key "name"/);
    expect(r.stderr).toMatch(/missing required key "version"/);
    expect(await readdir(data)).toEqual([]);
  });
});

describe('unpack into the data dir', () => {
  it('unpacks once; a rerun verifies the tarball and the folder again but writes nothing; a damaged tarball leaves the folder as it was', async () => {
    const data = join(dir, 'data-reuse');
    const dest = join(data, 'v-1.0.0');
    const unpack = async (tarball: string) => (await openBundle(tarball)).unpack({ dataDir: data });
    const first = await unpack(good);
    expect(first).toMatchObject({ dir: dest, reused: false });
    const before = (await stat(join(dest, 'repos/files/a.bin'))).ino;
    const again = await unpack(good);
    expect(again.reused).toBe(true);
    expect((await stat(join(dest, 'repos/files/a.bin'))).ino).toBe(before);
    await expect(unpack(await craft('changed'))).rejects.toThrow(/changed: repos\/files\/a\.bin/);
    expect(sha256sum(join(dest, 'repos/files/a.bin'))).toBe(sha256sum(join(dir, 'up', 'a.bin')));
    expect((await readdir(data)).sort()).toEqual(['v-1.0.0']);
  });

  it('a folder whose content changed since it was unpacked is not trusted for its marker: it is unpacked again', async () => {
    const data = join(dir, 'data-marker');
    const dest = join(data, 'v-1.0.0');
    const unpack = async () => (await openBundle(good)).unpack({ dataDir: data });
    await unpack();
    await writeFile(join(dest, 'repos/files/a.bin'), 'planted after the first unpack');
    const again = await unpack();
    expect(again.reused).toBe(false);
    expect(sha256sum(join(dest, 'repos/files/a.bin'))).toBe(sha256sum(join(dir, 'up', 'a.bin')));
  });
});
