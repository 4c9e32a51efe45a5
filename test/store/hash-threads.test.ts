import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChunks } from '../../src/store/chunked-read.js';
import { HashThreads } from '../../src/store/hash-threads.js';
import { KsBundleError } from '../../src/errors.js';
import { requireTools } from '../support/tools.js';

let dir: string;
let file: string;

beforeAll(async () => {
  requireTools('sha256sum', 'sha512sum');
  dir = await mkdtemp(join(tmpdir(), 'ksb-hash-threads-'));
  file = join(dir, 'data.bin');
  // 80 MiB and a bit: more than the ring holds (32 MiB), and a last read that is not a whole MiB.
  await writeFile(file, randomBytes(80 * 2 ** 20 + 12345));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const coreutils = (tool: string, path: string) => execFileSync(tool, [path], { encoding: 'utf8' }).slice(0, tool === 'sha256sum' ? 64 : 128);

describe('HashThreads', () => {
  it('hashes a read from the ring, in slices, in copies and inline, as sha256sum and sha512sum do', async () => {
    const threads = new HashThreads({ threads: 2 });
    try {
      // Four streams over the same bytes, each fed another way: whole ring chunks; odd slices of them (the reader's
      // view of tar members); copies outside the ring of a whole chunk (a gunzipped read); copies of small pieces.
      const whole = threads.hash('sha256');
      const sliced = threads.hash('sha512');
      const copied = threads.hash('sha256');
      const small = threads.hash('sha256');
      let n = 0;
      for await (const c of readChunks(file, { pool: threads, depth: 3 })) {
        await whole.update(c);
        for (let o = 0; o < c.length; o += 333_333) await sliced.update(c.subarray(o, o + 333_333));
        await copied.update(Buffer.from(c));
        if (n++ % 3 === 0) await new Promise((r) => setTimeout(r, 1)); // let the threads fall behind and catch up
        for (let o = 0; o < c.length; o += 50_000) await small.update(Buffer.from(c.subarray(o, o + 50_000)));
      }
      const [a, b, c, d] = await Promise.all([whole.digest(), sliced.digest(), copied.digest(), small.digest()]);
      const want256 = coreutils('sha256sum', file);
      expect(a.toString('hex')).toBe(want256);
      expect(b.toString('hex')).toBe(coreutils('sha512sum', file));
      expect(c.toString('hex')).toBe(want256);
      expect(d.toString('hex')).toBe(want256);
      // Whole files by path, on the threads.
      const got = await threads.hashFile(file);
      expect(got).toEqual({ sha256: want256, size: 80 * 2 ** 20 + 12345 });
    } finally {
      await threads.close();
    }
  });

  it('never follows a link when hashing a file by path, and names the file', async () => {
    const threads = new HashThreads({ threads: 1 });
    try {
      const link = join(dir, 'link.bin');
      await symlink(file, link);
      const err = await threads.hashFile(link).catch((e) => e);
      expect(err).toBeInstanceOf(KsBundleError);
      expect(err.message).toContain(`${link}: cannot read it (ELOOP`);
    } finally {
      await threads.close();
    }
  });

  it('a digest asked for after close fails instead of waiting forever', async () => {
    const threads = new HashThreads({ threads: 1 });
    const h = threads.hash('sha256');
    await h.update(Buffer.from('abc'));
    await threads.close();
    await expect(h.digest()).rejects.toThrow(/hashing threads were stopped/);
  });
});
