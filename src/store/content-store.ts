import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, rename, rm, stat, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { IntegrityError } from '../errors.js';
import { SHA256_HEX, hashFile, newSha256 } from './hashing.js';
import { READ_CHUNK } from './chunked-read.js';
import { tempSibling } from './atomic.js';

export interface StoredBlob {
  sha256: string;
  size: number;
  path: string;
}

export interface Expected {
  sha256?: string;
  size?: number;
}

/**
 * The build side's one cache, keyed by sha256: `<root>/sha256/<2 hex>/<64 hex>`. A blob appears under its name
 * only after its digest matched (temp file + rename), so whatever is there is whole and right; resume is "skip
 * what is there". Partial downloads live in `<root>/partial/` until they complete.
 */
export class ContentStore {
  constructor(readonly root: string) {}

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256 hex digest: ${sha256}`);
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  partialPathOf(key: string): string {
    return join(this.root, 'partial', key.replace(/[^A-Za-z0-9._-]/g, '_') + '.partial');
  }

  async has(sha256: string, size?: number): Promise<StoredBlob | undefined> {
    const path = this.pathOf(sha256);
    try {
      const st = await stat(path);
      if (size !== undefined && st.size !== size) return undefined;
      return { sha256, size: st.size, path };
    } catch {
      return undefined;
    }
  }

  /**
   * Move a finished file (hashed as it was written) into the store. Checks it against `expected` first; a file
   * that does not match is deleted and never enters the store.
   */
  async commit(tmpPath: string, actual: { sha256: string; size: number }, expected: Expected, what: string): Promise<StoredBlob> {
    checkExpected(actual, expected, what);
    const path = this.pathOf(actual.sha256);
    await mkdir(join(path, '..'), { recursive: true });
    await rename(tmpPath, path);
    return { sha256: actual.sha256, size: actual.size, path };
  }

  /** Stream into the store, hashing in the same pass. */
  async put(source: Readable, expected: Expected, what: string): Promise<StoredBlob> {
    if (expected.sha256) {
      const have = await this.has(expected.sha256, expected.size);
      if (have) {
        source.destroy();
        return have;
      }
    }
    const dir = join(this.root, 'partial');
    await mkdir(dir, { recursive: true });
    const tmp = tempSibling(join(dir, 'put'));
    const hash = newSha256();
    let size = 0;
    try {
      await pipeline(
        source,
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            hash.update(chunk);
            size += chunk.length;
            cb(null, chunk);
          },
        }),
        createWriteStream(tmp),
      );
      return await this.commit(tmp, { sha256: hash.digest('hex'), size }, expected, what);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** A local file (the installer, this machine's node): hashed first, so a rebuild finds it cached and copies nothing. */
  async putFile(file: string, expected: Expected, what: string): Promise<StoredBlob> {
    const known = expected.sha256 ? expected : await hashFile(file);
    return this.put(createReadStream(file, { highWaterMark: READ_CHUNK }), { ...expected, ...known }, what);
  }

  /** Place a stored blob at `dest`: a hard link where the filesystem allows it, a copy otherwise. */
  async materialize(sha256: string, dest: string): Promise<void> {
    const src = this.pathOf(sha256);
    await mkdir(join(dest, '..'), { recursive: true });
    await rm(dest, { force: true });
    try {
      await link(src, dest);
    } catch {
      await copyFile(src, dest);
    }
  }
}

export function checkExpected(actual: { sha256: string; size: number }, expected: Expected, what: string): void {
  if (expected.size !== undefined && actual.size !== expected.size) {
    throw new IntegrityError(`${what}: size ${actual.size} bytes, expected ${expected.size}`, {
      hint: 'The upstream served something other than what its index promised; nothing was stored.',
    });
  }
  if (expected.sha256 && actual.sha256 !== expected.sha256) {
    throw new IntegrityError(`${what}: sha256 ${actual.sha256}, expected ${expected.sha256}`, {
      hint: 'The upstream served something other than what its index promised; nothing was stored.',
    });
  }
}
