import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IntegrityError, InputError } from '../errors.js';
import { readChunks, readHead, type BufferPool } from '../store/chunked-read.js';
import { hashHere, type Hasher } from '../store/hashing.js';
import { PARTS_SUFFIX, isPartsFile, parseParts, type PartRef } from './parts-file.js';

/** A damaged part, found while its bytes streamed past; reading goes on so every problem is listed. */
export interface PartProblem {
  kind: 'changed';
  path: string;
  message: string;
}

/** What a read can run with: buffers from a ring that hashing threads read from, and hashes on those threads. */
export interface ReadWith {
  pool?: BufferPool;
  hasher?: Hasher;
}

/** A check over every byte of a tarball (its signature) that rides the read verifying it: no second pass. */
export interface ByteCheck {
  /** A read from the tarball's first byte begins, hashing with `hasher` (usable until `end` has resolved). */
  begin(hasher: Hasher): ByteTap;
  /** Throws unless the bytes of the read begun last pass. */
  finish(): Promise<unknown>;
}

export interface ByteTap {
  /** Each chunk of the read, in order. */
  update(chunk: Buffer): void | Promise<void>;
  /** The read is over: take the digests while the hasher is still there. */
  end(): Promise<void>;
}

/**
 * The bytes of a bundle tarball, wherever they are: one file, or the ordered parts a `.parts` file lists. A reader
 * sees one stream either way; nothing is buffered beyond the chunk in hand.
 */
export interface ByteSource {
  /** What the user named: the tarball or its .parts file. */
  path: string;
  /** The tarball's own path (for a split bundle, where it was before the split): `B.asc` and `B.sha256` sit beside it. */
  bundlePath: string;
  size: number;
  /** Every byte in order. A chunk is valid only until the next one is asked for. */
  chunks(using?: ReadWith): AsyncIterable<Buffer>;
  /** The first bytes (a gzip magic, say). */
  head(n: number): Promise<Buffer>;
  /**
   * The reader gave up (a corrupt archive): stop at the end of the current part, so a damaged part is still named,
   * without reading gigabytes that no longer matter. A plain file stops at once.
   */
  stop(): void;
  /** Damaged parts, known once their last byte has been read. */
  problems: PartProblem[];
}

/** A tarball, or a split one when `path` ends in `.parts`. */
export async function openByteSource(path: string): Promise<ByteSource> {
  return isPartsFile(path) ? openParts(path) : openFile(path);
}

export async function openFile(path: string): Promise<ByteSource> {
  const size = (await stat(path)).size;
  let stopped = false;
  return {
    path,
    bundlePath: path,
    size,
    problems: [],
    stop: () => (stopped = true),
    head: (n) => readHead(path, n),
    async *chunks(using) {
      for await (const c of readChunks(path, { pool: using?.pool })) {
        if (stopped) return;
        yield c;
      }
    },
  };
}

/** A .parts file is a few lines; anything bigger is not one, and is not read into memory. */
const MAX_PARTS_FILE = 1 << 20;

export async function openParts(partsFile: string): Promise<ByteSource> {
  const st = await stat(partsFile).catch(() => undefined);
  if (!st?.isFile()) throw new InputError(`${partsFile}: no such file`, { hint: 'Give the .parts file that `ks-bundle split` wrote beside the parts.' });
  if (st.size > MAX_PARTS_FILE) throw new IntegrityError(`${partsFile}: ${st.size} bytes is too big for a list of parts`);
  const parsed = parseParts(await readFile(partsFile, 'utf8'));
  if (!parsed.ok) throw new IntegrityError(`${partsFile}:${parsed.line}: ${parsed.reason}`, { hint: 'Copy the .parts file again from the same place as the parts.' });
  const dir = dirname(partsFile);
  const parts = parsed.parts.map((p) => ({ ...p, path: join(dir, p.name) }));
  const sizes: number[] = [];
  const missing: string[] = [];
  for (const [i, p] of parts.entries()) {
    const s = await stat(p.path).catch(() => undefined);
    if (!s?.isFile()) missing.push(`${p.path} (part ${i + 1} of ${parts.length})`);
    sizes.push(s?.size ?? 0);
  }
  if (missing.length) {
    throw new IntegrityError(`${partsFile}: missing part${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`, {
      hint: `Copy every part that ${basename(partsFile)} lists into ${dir}; nothing was read or installed.`,
    });
  }
  return new PartsSource(partsFile, parts, sizes);
}

class PartsSource implements ByteSource {
  readonly bundlePath: string;
  readonly size: number;
  readonly problems: PartProblem[] = [];
  private stopped = false;

  constructor(
    readonly path: string,
    private readonly parts: Array<PartRef & { path: string }>,
    sizes: number[],
  ) {
    this.bundlePath = path.slice(0, -PARTS_SUFFIX.length);
    this.size = sizes.reduce((a, b) => a + b, 0);
  }

  stop(): void {
    this.stopped = true;
  }

  head(n: number): Promise<Buffer> {
    return readHead(this.parts[0]!.path, n);
  }

  /** Each part is hashed as it streams past (on a hashing thread when `using` has one), to name a damaged part. */
  async *chunks(using?: ReadWith): AsyncGenerator<Buffer> {
    const digests: Array<Promise<Buffer>> = [];
    for (const [i, part] of this.parts.entries()) {
      if (this.stopped) break;
      const hash = (using?.hasher ?? hashHere).hash('sha256');
      try {
        for await (const c of readChunks(part.path, { pool: using?.pool })) {
          const fed = hash.update(c);
          if (fed) await fed;
          yield c;
        }
      } catch (err: any) {
        if (err?.code !== 'ENOENT') throw err;
        throw new IntegrityError(`${part.path}: part ${i + 1} of ${this.parts.length} is missing`, { hint: `Copy it again beside ${basename(this.path)}.` });
      }
      // Compared once the read is over: waiting here would stall the read until the hash caught up.
      const digest = hash.digest();
      digest.catch(() => {}); // awaited below, unless the reader stops first
      digests.push(digest);
    }
    for (const [i, d] of (await Promise.all(digests)).entries()) {
      const [got, part] = [d.toString('hex'), this.parts[i]!];
      if (got !== part.sha256) {
        this.problems.push({ kind: 'changed', path: part.path, message: `part ${i + 1} of ${this.parts.length} is damaged: sha256 ${got}, ${basename(this.path)} says ${part.sha256}` });
      }
    }
  }
}

/** Pass every chunk to `tap` (awaited: the chunk's buffer is reused after) on its way to the reader. */
export function tapSource(source: ByteSource, tap: (chunk: Buffer) => void | Promise<void>): ByteSource {
  return {
    ...source,
    stop: () => source.stop(),
    head: (n) => source.head(n),
    get problems() {
      return source.problems;
    },
    async *chunks(using) {
      for await (const c of source.chunks(using)) {
        await tap(c);
        yield c;
      }
    },
  };
}
