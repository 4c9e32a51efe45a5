import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { DigestMismatchError, IntegrityError, redactUrl } from '../errors.js';
import { SHA256_HEX, hashFile, newSha256, sha256OfString } from './hashing.js';
import { READ_CHUNK } from './chunked-read.js';
import { tempSibling, writeFileAtomic } from './atomic.js';
import { asWriteError } from './write-error.js';

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
 * Values derived from known inputs, kept under a key that names every input (the store's `derived/`): whoever finds
 * one may skip the work that made it.
 */
export interface DerivedMemo {
  recall(key: string): Promise<string | undefined>;
  remember(key: string, value: string): Promise<void>;
}

/**
 * The build side's one cache, keyed by sha256: `<root>/sha256/<2 hex>/<64 hex>`. A blob appears under its name
 * only after its digest matched (temp file + rename), so whatever is there is whole and right; resume is "skip
 * what is there". Partial downloads live in `<root>/partial/` until they complete. `<root>/sources/<2 hex>/<64 hex>`
 * lists the URLs (redacted) a blob was downloaded from, one a line, so a lock never names a URL that was not fetched.
 * `<root>/refs/` names blobs derived from others or from local files (`readRef`); `<root>/derived/` keeps small values
 * computed from blobs under a key naming all of their inputs (a packed tarball's sha256).
 */
export class ContentStore implements DerivedMemo {
  /** Work on one key (a digest's partial file) that is under way, so a second caller waits instead of colliding. */
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {}

  /**
   * Run `work` alone for `key`: two artifacts with the same digest share one partial file, so the second waits for
   * the first, then finds the blob in the store.
   */
  async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.busy.get(key);
    const mine = (async () => {
      await before?.catch(() => {});
      return work();
    })();
    this.busy.set(key, mine);
    try {
      return await mine;
    } finally {
      if (this.busy.get(key) === mine) this.busy.delete(key);
    }
  }

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256 hex digest: ${sha256}`);
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  partialPathOf(key: string): string {
    return join(this.root, 'partial', key.replace(/[^A-Za-z0-9._-]/g, '_') + '.partial');
  }

  /**
   * The stored blob, if there is one of that size. With `fetchedFrom`, only a blob that was downloaded from that URL
   * counts: a pinned file whose URL changed is fetched again, so the new URL is proven to serve these bytes.
   */
  async has(sha256: string, size?: number, fetchedFrom?: string): Promise<StoredBlob | undefined> {
    const path = this.pathOf(sha256);
    try {
      const st = await stat(path);
      if (size !== undefined && st.size !== size) return undefined;
      if (fetchedFrom !== undefined && !(await this.sourcesOf(sha256)).includes(redactUrl(fetchedFrom))) return undefined;
      return { sha256, size: st.size, path };
    } catch {
      return undefined;
    }
  }

  /** The URLs (redacted) a blob was downloaded from. */
  async sourcesOf(sha256: string): Promise<string[]> {
    const text = await readFile(this.sourcesPathOf(sha256), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean);
  }

  private sourcesPathOf(sha256: string): string {
    return join(this.root, 'sources', sha256.slice(0, 2), sha256);
  }

  /**
   * Move a finished file (hashed as it was written) into the store. Checks it against `expected` first; a file
   * that does not match is deleted and never enters the store.
   */
  async commit(tmpPath: string, actual: { sha256: string; size: number }, expected: Expected, what: string, fetchedFrom?: string): Promise<StoredBlob> {
    checkExpected(actual, expected, what);
    const path = this.pathOf(actual.sha256);
    await mkdir(join(path, '..'), { recursive: true });
    await rename(tmpPath, path);
    if (fetchedFrom !== undefined) {
      const source = redactUrl(fetchedFrom);
      if (!(await this.sourcesOf(actual.sha256)).includes(source)) {
        const record = this.sourcesPathOf(actual.sha256);
        await mkdir(join(record, '..'), { recursive: true });
        await appendFile(record, source + '\n');
      }
    }
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
      throw asWriteError(err, tmp);
    }
  }

  /**
   * A local file (the installer, this machine's node): hashed first, so a rebuild finds it cached and copies nothing.
   * A file stored before under the same identity (path, device, inode, size, modification and change times) is not
   * read again: every write to it moves its change time, which no user can set back.
   */
  async putFile(file: string, expected: Expected, what: string): Promise<StoredBlob> {
    const before = expected.sha256 ? undefined : await identityOf(file);
    const seen = before && (await this.readRef(before));
    if (seen) return seen;
    const known = expected.sha256 ? expected : await hashFile(file);
    const stored = await this.put(createReadStream(file, { highWaterMark: READ_CHUNK }), { ...expected, ...known }, what);
    // Only a file that did not change while it was read, and not within the clock's granularity of it.
    if (before && before === (await identityOf(file)) && settled(await stat(file, { bigint: true }))) await this.writeRef(before, stored);
    return stored;
  }

  /**
   * A name that points at a blob derived from others (the `bin/node` inside a release tarball): a rebuild finds the
   * result without fetching or unpacking again. The blob's own name is its digest, so a ref cannot point at wrong bytes.
   */
  async readRef(name: string): Promise<StoredBlob | undefined> {
    const text = await readFile(this.refPath(name), 'utf8').catch(() => undefined);
    const m = text && /^([0-9a-f]{64}) (\d+)\n$/.exec(text);
    return m ? this.has(m[1]!, Number(m[2])) : undefined;
  }

  async writeRef(name: string, blob: { sha256: string; size: number }): Promise<void> {
    await mkdir(join(this.root, 'refs'), { recursive: true });
    await writeFileAtomic(this.refPath(name), `${blob.sha256} ${blob.size}\n`);
  }

  /**
   * A value derived from blobs of the store (a packed tarball's sha256, say), kept under a key that names every input
   * it was derived from: whoever finds it may skip the work that made it.
   */
  async recall(key: string): Promise<string | undefined> {
    return readFile(this.derivedPath(key), 'utf8').catch(() => undefined);
  }

  async remember(key: string, value: string): Promise<void> {
    await mkdir(join(this.root, 'derived'), { recursive: true });
    await writeFileAtomic(this.derivedPath(key), value);
  }

  private derivedPath(key: string): string {
    return join(this.root, 'derived', key.replace(/[^A-Za-z0-9._-]/g, '_'));
  }

  private refPath(name: string): string {
    return join(this.root, 'refs', name.replace(/[^A-Za-z0-9._@-]/g, '_'));
  }
}

/** What names a local file's state without reading it, as a ref name. */
async function identityOf(file: string): Promise<string> {
  const st = await stat(file, { bigint: true });
  const id = [resolve(file), st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join('\0');
  return `local-file-${sha256OfString(id)}`;
}

/**
 * Changed long enough ago that a write in the same clock tick, which would leave the times as they are, is over: the
 * same rule git applies to its index ("racy git").
 */
function settled(st: { ctimeNs: bigint; mtimeNs: bigint }): boolean {
  const now = BigInt(Date.now()) * 1_000_000n;
  return now - st.ctimeNs > 2_000_000_000n && now - st.mtimeNs > 2_000_000_000n;
}

export function checkExpected(actual: { sha256: string; size: number }, expected: Expected, what: string): void {
  if (expected.size !== undefined && actual.size !== expected.size) {
    throw new IntegrityError(`${what}: size ${actual.size} bytes, expected ${expected.size}`, {
      hint: 'The upstream served something other than what its index promised; nothing was stored.',
    });
  }
  if (expected.sha256 && actual.sha256 !== expected.sha256) {
    throw new DigestMismatchError(`${what}: sha256 ${actual.sha256}, expected ${expected.sha256}`, expected.sha256, actual.sha256, {
      hint: 'The upstream served something other than what its index promised; nothing was stored.',
    });
  }
}
