import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IntegrityError, InputError } from '../errors.js';
import { readChunks, readHead, type BufferPool, type Skip } from '../store/chunked-read.js';
import type { Hasher } from '../store/hashing.js';
import type { FilePiece } from '../store/hash-threads.js';
import { PARTS_SUFFIX, isPartsFile, parseParts, type PartRef } from './parts-file.js';

/** A part whose bytes differ from what the .parts file says. */
export interface PartProblem {
  kind: 'changed';
  path: string;
  message: string;
}

/** What a read can run with: buffers from a ring that hashing threads read from, and hashes on those threads. */
export interface ReadWith {
  pool?: BufferPool;
  hasher?: Hasher;
  /** Where the reader says which bytes to jump over (bodies hashed elsewhere by their range). */
  skip?: Skip;
}

/** sha256 (hex) of a whole file. */
export type HashFile = (path: string) => Promise<{ sha256: string }>;

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
  /** Every byte in order (but those `using.skip` jumps over). A chunk is valid only until the next one is asked for. */
  chunks(using?: ReadWith): AsyncIterable<Buffer>;
  /** Where the tarball's bytes [offset, offset + length) lie: one file, or the parts they span. */
  pieces(offset: number, length: number): FilePiece[];
  /** The first bytes (a gzip magic, say). */
  head(n: number): Promise<Buffer>;
  /**
   * The reader gave up (a corrupt archive): stop at the end of the current part, so a damaged part is still named,
   * without reading gigabytes that no longer matter. A plain file stops at once.
   */
  stop(): void;
  /**
   * The parts that differ from the .parts file, hashed now: those the last read reached (all of them, unless it
   * stopped early). A read is checked by what it holds (every file's sha256, headers with their checksums, padding
   * and the archive's tail all zeros), so damage anywhere shows up as a problem of the read first; this names the
   * part it lies in. Nothing for a single file.
   */
  damagedParts(hashFile: HashFile): Promise<PartProblem[]>;
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
    stop: () => (stopped = true),
    head: (n) => readHead(path, n),
    pieces: (offset, length) => [{ path, start: offset, end: offset + length }],
    damagedParts: async () => [],
    async *chunks(using) {
      for await (const c of readChunks(path, { pool: using?.pool, end: size, skip: using?.skip })) {
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
  /** Where each part begins in the tarball. */
  private readonly starts: number[] = [];
  private stopped = false;
  /** How many parts the last read began (or jumped over). */
  private reached = 0;

  constructor(
    readonly path: string,
    private readonly parts: Array<PartRef & { path: string }>,
    private readonly sizes: number[],
  ) {
    this.bundlePath = path.slice(0, -PARTS_SUFFIX.length);
    let at = 0;
    for (const s of sizes) {
      this.starts.push(at);
      at += s;
    }
    this.size = at;
  }

  pieces(offset: number, length: number): FilePiece[] {
    const out: FilePiece[] = [];
    for (let i = 0; i < this.parts.length && length > 0; i++) {
      const [start, size] = [this.starts[i]!, this.sizes[i]!];
      if (offset >= start + size) continue;
      const n = Math.min(length, start + size - offset);
      out.push({ path: this.parts[i]!.path, start: offset - start, end: offset - start + n });
      offset += n;
      length -= n;
    }
    // Past the last part: the hashing thread's read comes up short and says so.
    if (length > 0) out.push({ path: this.parts.at(-1)!.path, start: this.sizes.at(-1)!, end: this.sizes.at(-1)! + length });
    return out;
  }

  async damagedParts(hashFile: HashFile): Promise<PartProblem[]> {
    const checked = this.parts.slice(0, this.reached);
    const got = await Promise.all(checked.map((p) => hashFile(p.path)));
    return checked.flatMap((part, i) =>
      got[i]!.sha256 === part.sha256 ? [] : [{ kind: 'changed' as const, path: part.path, message: `part ${i + 1} of ${this.parts.length} is damaged: sha256 ${got[i]!.sha256}, ${basename(this.path)} says ${part.sha256}` }],
    );
  }

  stop(): void {
    this.stopped = true;
  }

  head(n: number): Promise<Buffer> {
    return readHead(this.parts[0]!.path, n);
  }

  async *chunks(using?: ReadWith): AsyncGenerator<Buffer> {
    this.reached = 0;
    for (const [i, part] of this.parts.entries()) {
      if (this.stopped) break;
      this.reached = i + 1;
      const skip = using?.skip;
      // A jump that began in an earlier part may pass over this one whole.
      if (skip && skip.pending >= this.sizes[i]!) {
        skip.pending -= this.sizes[i]!;
        continue;
      }
      const start = skip?.pending ?? 0;
      if (skip) skip.pending = 0;
      try {
        for await (const c of readChunks(part.path, { pool: using?.pool, start, end: this.sizes[i], skip })) {
          if (this.stopped) return;
          yield c;
        }
      } catch (err: any) {
        if (err?.code !== 'ENOENT') throw err;
        throw new IntegrityError(`${part.path}: part ${i + 1} of ${this.parts.length} is missing`, { hint: `Copy it again beside ${basename(this.path)}.` });
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
    pieces: (offset, length) => source.pieces(offset, length),
    damagedParts: (hashFile) => source.damagedParts(hashFile),
    async *chunks(using) {
      for await (const c of source.chunks(using)) {
        await tap(c);
        yield c;
      }
    },
  };
}
