import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentStore } from '../../src/store/content-store.js';
import { sha256sum } from '../support/sha256sum.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ksb-store-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const refsOf = async (cache: string) => (await readdir(join(cache, 'refs')).catch(() => [])).filter((n) => n.startsWith('local-file-'));

describe('a local file put into the store (the installer, this machine’s node)', () => {
  it('is remembered by its identity once settled, and hashed again once it changed, even with its old size and mtime', async () => {
    const cache = join(dir, 'cache');
    const store = new ContentStore(cache);
    const file = join(dir, 'node');
    await writeFile(file, randomBytes(3 << 20));
    // Older than the clock's granularity (the store's racy-write rule is 2 s).
    await sleep(2100);
    const first = await store.putFile(file, {}, 'local node');
    expect(first.sha256).toBe(sha256sum(file));
    expect(sha256sum(first.path)).toBe(first.sha256);
    expect(await refsOf(cache)).toHaveLength(1);
    expect((await store.putFile(file, {}, 'local node')).sha256).toBe(first.sha256);

    // Same size, and the modification time put back: only the change time (which no one can set) tells.
    const { mtime, atime } = await stat(file);
    await writeFile(file, randomBytes(3 << 20));
    await utimes(file, atime, mtime);
    const second = await store.putFile(file, {}, 'local node');
    expect(second.sha256).toBe(sha256sum(file));
    expect(second.sha256).not.toBe(first.sha256);
    expect(sha256sum(second.path)).toBe(second.sha256);
  });

  it('is not remembered while it may still be being written (changed within the last 2 s)', async () => {
    const cache = join(dir, 'cache-fresh');
    const store = new ContentStore(cache);
    const file = join(dir, 'fresh');
    await writeFile(file, randomBytes(1 << 20));
    const got = await store.putFile(file, {}, 'fresh file');
    expect(got.sha256).toBe(sha256sum(file));
    expect(await refsOf(cache)).toEqual([]);
  });
});
