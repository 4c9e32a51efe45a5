import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/write.js';
import { ContentStore } from '../../src/store/content-store.js';
import { sha256sum } from '../support/sha256sum.js';
import { isRoot, requireTools } from '../support/tools.js';
import { testMeta } from '../support/bundle-meta.js';

let dir: string;
beforeAll(async () => {
  requireTools('tar', 'sha256sum');
  dir = await mkdtemp(join(tmpdir(), 'ksb-pack-'));
  await mkdir(join(dir, 'src'));
  // Sizes around 512-byte blocks, the packer's 256 KiB buffer and the 4 MiB from which the kernel copies a body
  // (`kernel-minus` goes through the buffer, `kernel` and `big` through cat), and a path too long for a ustar header.
  const sizes = [['empty', 0], ['one', 1], ['block', 512], ['slot', 1 << 18], ['slot-plus', (1 << 18) + 1], ['kernel-minus', (4 << 20) - 1], ['kernel', 4 << 20], ['big', (9 << 20) + 3]] as const;
  for (const [name, size] of sizes) {
    await writeFile(join(dir, 'src', name), randomBytes(size));
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const entry = (name: string, path = `files/${name}`) => ({ path, file: join(dir, 'src', name), size: -1 });

/** Entries as a build hands them over: size and digest known from the download, the file in the cache. */
async function pack(out: string, entries: Array<{ path: string; file: string; size: number; sha256?: string }>, memo?: ContentStore) {
  const sized = entries.map((e) => ({
    ...e,
    size: e.size >= 0 ? e.size : Number(execFileSync('stat', ['-c', '%s', e.file], { encoding: 'utf8' })),
    sha256: e.sha256 ?? sha256sum(e.file),
  }));
  return writeBundle({ name: 'pack', version: '1.0.0', entries: sized, meta: testMeta('pack', '1.0.0'), out, asDirectory: false, compress: 'none', memo });
}

describe('packing a bundle', () => {
  it('GNU tar unpacks exactly the files given, and the sidecar holds the tarball’s sha256', async () => {
    const names = ['empty', 'one', 'block', 'slot', 'slot-plus', 'kernel-minus', 'kernel', 'big'];
    const long = `files/${'deep/'.repeat(30)}big`;
    const out = join(dir, 'ok.tar');
    const written = await pack(out, [...names.map((n) => entry(n)), entry('big', long)]);
    expect(written.sha256).toBe(sha256sum(out));
    expect(execFileSync('cat', [`${out}.sha256`], { encoding: 'utf8' })).toBe(`${sha256sum(out)}  ok.tar\n`);
    const x = join(dir, 'x');
    await mkdir(x);
    execFileSync('tar', ['-xf', out, '-C', x]);
    for (const n of names) expect(sha256sum(join(x, 'pack-1.0.0/files', n))).toBe(sha256sum(join(dir, 'src', n)));
    expect(sha256sum(join(x, 'pack-1.0.0', long))).toBe(sha256sum(join(dir, 'src', 'big')));
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: join(x, 'pack-1.0.0') });
  });

  it.each([
    ['shrank', 'slot-plus', 100],
    ['grew', 'slot-plus', -100],
    ['shrank', 'big', 100],
    ['grew', 'big', -100],
  ])('a file that %s since it was sized (%s) fails the pack, naming it, and leaves no tarball or temp file', async (_what, name, delta) => {
    const out = join(dir, `changed-${name}-${delta}`, 'b.tar');
    const e = entry(name);
    const size = Number(execFileSync('stat', ['-c', '%s', e.file], { encoding: 'utf8' })) + delta;
    const failed = pack(out, [entry('one'), { ...e, size }, entry('kernel')]);
    await expect(failed).rejects.toThrow(new RegExp(`src/${name}: expected ${size} bytes.*did it change during the build`));
    await expect(failed).rejects.toMatchObject({ code: 'FAILED', exitCode: 1 });
    expect(await readdir(join(dir, `changed-${name}-${delta}`))).toEqual([]);
  });

  it.each([
    ['small', 10],
    ['large', 8 << 20],
  ])('a missing %s file fails the pack, naming it, and leaves nothing', async (what, size) => {
    const out = join(dir, `missing-${what}`, 'c.tar');
    const failed = pack(out, [entry('one'), { path: 'files/gone', file: join(dir, 'src', 'gone'), size, sha256: '0'.repeat(64) }]);
    await expect(failed).rejects.toThrow(/src\/gone: cannot read it while packing \(ENOENT\)/);
    await expect(failed).rejects.toMatchObject({ code: 'FAILED', exitCode: 1 });
    expect(await readdir(join(dir, `missing-${what}`))).toEqual([]);
  });

  it('a full disk under the tarball names its folder, and leaves nothing', async () => {
    if (!isRoot()) throw new Error('this test mounts a small tmpfs and needs root');
    const full = join(dir, 'full');
    await mkdir(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', full]);
    try {
      const failed = pack(join(full, 'd.tar'), [entry('one'), entry('big')]);
      await expect(failed).rejects.toThrow(`no space left in ${full} while packing the bundle`);
      await expect(failed).rejects.toMatchObject({ code: 'FAILED', exitCode: 1 });
      expect(await readdir(full)).toEqual([]);
    } finally {
      execFileSync('umount', [full]);
    }
  });

  it('without a shell to copy with, large bodies go through the buffer: the same bytes', async () => {
    // Sized and hashed up front: the test's own helpers need the PATH too.
    const files = [entry('one'), entry('kernel'), entry('big')].map((e) => ({ ...e, size: statSync(e.file).size, sha256: sha256sum(e.file) }));
    await pack(join(dir, 'shell.tar'), files);
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    let written;
    try {
      written = await pack(join(dir, 'noshell.tar'), files);
    } finally {
      process.env.PATH = path;
    }
    expect(written.sha256).toBe(sha256sum(join(dir, 'noshell.tar')));
    expect(sha256sum(join(dir, 'noshell.tar'))).toBe(sha256sum(join(dir, 'shell.tar')));
  });

  it('packing the same files again from the cache gives the same bytes, and a sidecar that sha256sum accepts', async () => {
    const store = new ContentStore(join(dir, 'cache'));
    const files = [entry('one'), entry('kernel-minus'), entry('big')];
    const first = await pack(join(dir, 'memo-1.tar'), files, store);
    expect(await readdir(join(dir, 'cache', 'derived'))).toHaveLength(1);
    const second = await pack(join(dir, 'memo-2.tar'), files, store);
    expect(second.sha256).toBe(first.sha256);
    for (const n of ['memo-1.tar', 'memo-2.tar']) {
      expect(sha256sum(join(dir, n))).toBe(first.sha256);
      execFileSync('sha256sum', ['-c', '--quiet', `${n}.sha256`], { cwd: dir });
    }
    // A different body by digest is another tarball: its own key, hashed.
    const other = await pack(join(dir, 'memo-3.tar'), [entry('one'), entry('kernel'), entry('big')], store);
    expect(other.sha256).toBe(sha256sum(join(dir, 'memo-3.tar')));
    expect(await readdir(join(dir, 'cache', 'derived'))).toHaveLength(2);
  });

  it('packing from a remembered digest still fails on a file that vanished, naming it, and leaves nothing', async () => {
    const store = new ContentStore(join(dir, 'cache-vanish'));
    await writeFile(join(dir, 'src', 'vanishing'), randomBytes(6 << 20));
    const files = [entry('one'), entry('vanishing')];
    await pack(join(dir, 'vanish-1.tar'), files, store);
    const sized = files.map((e) => ({ ...e, size: statSync(e.file).size, sha256: sha256sum(e.file) }));
    await rm(join(dir, 'src', 'vanishing'));
    const failed = pack(join(dir, 'vanish', 'v.tar'), sized, store);
    await expect(failed).rejects.toThrow(/src\/vanishing: cannot read it while packing \(ENOENT\)/);
    await expect(failed).rejects.toMatchObject({ code: 'FAILED', exitCode: 1 });
    expect(await readdir(join(dir, 'vanish'))).toEqual([]);
  });

  it('a remembered digest for a tarball of another size is not trusted: the tarball is hashed', async () => {
    const cache = join(dir, 'cache-wrong');
    const store = new ContentStore(cache);
    const files = [entry('one'), entry('big')];
    await pack(join(dir, 'wrong-1.tar'), files, store);
    const [key] = await readdir(join(cache, 'derived'));
    await writeFile(join(cache, 'derived', key!), `${'0'.repeat(64)} 12345\n`);
    const again = await pack(join(dir, 'wrong-2.tar'), files, store);
    expect(again.sha256).toBe(sha256sum(join(dir, 'wrong-2.tar')));
  });
});
