import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/write.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';
import { testMeta } from '../support/bundle-meta.js';

let dir: string;
beforeAll(async () => {
  requireTools('tar', 'sha256sum');
  dir = await mkdtemp(join(tmpdir(), 'ksb-pack-'));
  await mkdir(join(dir, 'src'));
  // Sizes around the packer's 128 KiB slots, its 2 MiB ring and 512-byte blocks, and a path too long for a ustar header.
  for (const [name, size] of [['empty', 0], ['one', 1], ['block', 512], ['slot', 1 << 17], ['slot-plus', (1 << 17) + 1], ['ring-plus', (2 << 20) + 1], ['big', 9 << 20]] as const) {
    await writeFile(join(dir, 'src', name), randomBytes(size));
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const entry = (name: string, path = `files/${name}`) => ({ path, file: join(dir, 'src', name), size: -1 });

/** Entries as a build hands them over: size and digest known from the download, the file in the cache. */
async function pack(out: string, entries: Array<{ path: string; file: string; size: number; sha256?: string }>) {
  const sized = entries.map((e) => ({
    ...e,
    size: e.size >= 0 ? e.size : Number(execFileSync('stat', ['-c', '%s', e.file], { encoding: 'utf8' })),
    sha256: e.sha256 ?? sha256sum(e.file),
  }));
  return writeBundle({ name: 'pack', version: '1.0.0', entries: sized, meta: testMeta('pack', '1.0.0'), out, asDirectory: false, compress: 'none' });
}

describe('packing a bundle', () => {
  it('GNU tar unpacks exactly the files given, and the sidecar holds the tarball’s sha256', async () => {
    const names = ['empty', 'one', 'block', 'slot', 'slot-plus', 'ring-plus', 'big'];
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
    ['shrank', 100],
    ['grew', -100],
  ])('a file that %s since it was sized fails the pack, naming it, and leaves no tarball or temp file', async (_what, delta) => {
    const out = join(dir, 'changed', 'b.tar');
    const e = entry('slot-plus');
    const size = (1 << 17) + 1 + delta;
    const failed = pack(out, [entry('one'), { ...e, size }]);
    await expect(failed).rejects.toThrow(/slot-plus.*did it change during the build/);
    await expect(failed).rejects.toMatchObject({ code: 'FAILED', exitCode: 1 });
    expect(await readdir(join(dir, 'changed'))).toEqual([]);
  });

  it('a missing file fails the pack, naming it, and leaves nothing', async () => {
    const out = join(dir, 'missing', 'c.tar');
    const failed = pack(out, [entry('one'), { path: 'files/gone', file: join(dir, 'src', 'gone'), size: 10, sha256: '0'.repeat(64) }]);
    await expect(failed).rejects.toThrow(/src\/gone: cannot read it while packing \(ENOENT\)/);
    await expect(failed).rejects.toMatchObject({ code: 'FAILED', exitCode: 1 });
    expect(await readdir(join(dir, 'missing'))).toEqual([]);
  });
});
