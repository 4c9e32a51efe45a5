import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { readTar, TarFormatError, type EntrySink, type TarEntryInfo } from './tar-reader.js';
import { allZeros } from './tar-header.js';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { hashHere } from '../store/hashing.js';
import { IntegrityError, KsBundleError, localFailure } from '../errors.js';
import { BUNDLE_YAML, SUMS, isUncovered, isUserEditable } from './layout.js';
import { parseSums } from './sha256sums.js';
import { compareWithSums, type VerifyProblem } from './compare.js';
import type { BundleMeta } from './meta.js';
import type { ByteSource, HashFile, ReadWith } from '../parts/source.js';
import { READ_CHUNK, Skip } from '../store/chunked-read.js';
import { hashFile } from '../store/hashing.js';
import type { CopyTarget } from '../store/hash-threads.js';
import { checkEntryPath, linkTargetInside } from './entry-path.js';

export interface BundleReadResult {
  problems: VerifyProblem[];
  /** bundle.yaml, checked; set only when it has no problem. */
  meta?: BundleMeta;
  /** The format version bundle.yaml declares, even one this ks-bundle does not read. */
  formatVersion?: number;
  /** The single top folder of the archive. */
  top?: string;
  files: number;
  bytes: number;
  /** Regular files' digests, by path under the top folder. */
  digests: Map<string, string>;
  /** The text of the small files `keep` asked for (the completeness check reads them). */
  kept: Map<string, string>;
  /** A delta's listed files that come from its base (path → sha256); empty for a full bundle. */
  fromBase: Map<string, string>;
}

export interface ReadOptions {
  onProgress?: OnProgress;
  /** Write every regular file under this folder as it streams (safe unpack); paths are checked first. */
  extractTo?: string;
  /** Keep the text of these (small) files. */
  keep?: (rel: string) => boolean;
  /** The ring to read into and the threads to hash on; without it, everything runs on this thread. */
  using?: ReadWith;
  /**
   * Hash a file of at least RANGE_FROM bytes by its byte range in the tarball, elsewhere (a hashing thread reading
   * the file itself), while this read jumps over it: an uncompressed tarball, nothing to write, no signature.
   */
  rangeHash?: (offset: number, length: number) => Promise<string>;
  /**
   * Unpacking: a file of at least RANGE_FROM bytes is read, hashed and written to its new file by its byte range,
   * elsewhere (a hashing thread), while this read jumps over it: an uncompressed tarball, no signature. Resolves to
   * its sha256; a write that fails rejects with its errno code (this machine's disk).
   */
  rangeCopy?: (offset: number, length: number, to: CopyTarget) => Promise<string>;
  /** How a split bundle's parts are hashed when the read found a problem (to name the damaged part). */
  hashFile?: HashFile;
}

/** Files this big are hashed by their range when the read allows it; smaller ones here, as they stream past. */
export const RANGE_FROM = 1 << 20;

/**
 * Files read into memory while they stream (bundle.yaml and SHA256SUMS, and the small texts `keep` asks for), and
 * the user's conf/ templates, which SHA256SUMS does not cover: each has a size no real bundle comes near.
 */
export const MAX_TEXT_BYTES: Record<string, number> = { [BUNDLE_YAML]: 1 << 20, [SUMS]: 64 << 20 };
export const MAX_KEPT_BYTES = 16 << 20;
const MAX_UNCOVERED = 1 << 20;

/**
 * Stream a bundle tarball (plain or gzip) once: check every entry's path, hash every file, optionally write it,
 * then compare with SHA256SUMS and bundle.yaml. Never unpacks anything that escapes `extractTo`, never buffers a file
 * (bundle.yaml and SHA256SUMS are kept: they are the bundle's own index). When unpacking, a file SHA256SUMS does not
 * list is not written at all (the writer puts SHA256SUMS first; a file before it is refused).
 */
export async function readBundleTar(source: ByteSource, opts: ReadOptions = {}): Promise<BundleReadResult> {
  const onProgress = opts.onProgress ?? noProgress;
  const total = source.size;
  const problems: VerifyProblem[] = [];
  const digests = new Map<string, string>();
  /** Files read, and their digests still being computed on a hashing thread (awaited once the read is over). */
  const seen = new Set<string>();
  const hashing: Array<Promise<void>> = [];
  const hasher = opts.using?.hasher ?? hashHere;
  const texts: { sums?: string; bundleYaml?: string } = {};
  let listed: Map<string, string> | undefined;
  const kept = new Map<string, string>();
  const layout = new TreeShape();
  let top: string | undefined;
  let files = 0;
  let bytes = 0;
  let read = 0;
  const unclosed = new Set<Promise<FileHandle>>();

  const onEntry = (entry: TarEntryInfo): EntrySink | undefined => {
    const verdict = checkEntryPath(entry.path);
    if (!verdict.ok) {
      problems.push({ kind: 'unsafe-path', path: entry.path, message: verdict.reason });
      return undefined;
    }
    if (top === undefined) top = verdict.top;
    else if (verdict.top !== top) {
      problems.push({ kind: 'unsafe-path', path: entry.path, message: `outside the bundle's top folder ${top}/` });
      return undefined;
    }
    const rel = verdict.rel;
    if (entry.kind === 'directory') {
      const clash = layout.addFolder(rel);
      if (clash) problems.push({ kind: 'bad-entry', path: rel, message: clash });
      return undefined;
    }
    if (entry.kind === 'symlink' || entry.kind === 'hardlink') {
      const inside = linkTargetInside(rel, entry.linkpath ?? '', entry.kind === 'hardlink');
      problems.push(
        inside === undefined
          ? { kind: 'unsafe-path', path: rel, message: `link to ${entry.linkpath} points outside the bundle` }
          : { kind: 'bad-entry', path: rel, message: `link to ${entry.linkpath}: a bundle holds regular files only` },
      );
      return undefined;
    }
    if (entry.kind !== 'file') {
      problems.push({ kind: 'bad-entry', path: rel || entry.path, message: `entry of type ${JSON.stringify(entry.typeflag)}${entry.path.endsWith('/') ? ' with a name ending in "/"' : ''}: a bundle holds regular files only` });
      return undefined;
    }
    if (!rel || seen.has(rel)) {
      problems.push({ kind: 'bad-entry', path: rel || entry.path, message: rel ? 'appears twice in the archive' : 'a file where the top folder belongs' });
      return undefined;
    }
    const refused = refusal(rel, entry.size);
    if (refused) {
      problems.push(refused);
      return undefined;
    }
    files++;
    seen.add(rel);
    const keep = rel in MAX_TEXT_BYTES || opts.keep?.(rel) ? ([] as Buffer[]) : undefined;
    const dest = opts.extractTo ? join(opts.extractTo, rel) : undefined;
    const mode = entry.mode & 0o111 ? 0o755 : 0o644;
    const byRange = keep || entry.size < RANGE_FROM ? undefined : dest ? copiedByRange(dest, mode) : opts.rangeHash;
    let ranged: Promise<string> | undefined;
    const hash = byRange ? undefined : hasher.hash('sha256');
    // The folder first, then the file: `wx` refuses to follow or replace anything already there.
    const opened = dest && !byRange ? local(mkdir(dirname(dest), { recursive: true }).then(() => open(dest, 'wx', mode))) : undefined;
    opened?.catch(() => {}); // awaited by write or end; a reader that stops first must not see an unhandled rejection
    if (opened) unclosed.add(opened);
    return {
      range: byRange && ((offset, length) => {
        bytes += length;
        ranged = byRange(offset, length);
        // Progress counts a file read by its range once it is hashed, not when the read jumps over it.
        ranged.then(() => advance(length), () => {}); // the failure is awaited at end, unless the read fails first
      }),
      async write(chunk) {
        const fed = hash!.update(chunk);
        if (fed) await fed;
        bytes += chunk.length;
        keep?.push(Buffer.from(chunk));
        // Awaited: the reader reuses the chunk's buffer once this returns.
        if (opened) await local(writeAll(await opened, chunk));
      },
      async end() {
        digests.set(rel, ''); // in archive order; the digest comes when its thread is done
        const done = ranged
          ? ranged.then(
              (d) => void digests.set(rel, d),
              // Bytes a header promised and the file does not hold (a short part, a size that overshoots).
              (err: Error) => {
                if (!(err instanceof IntegrityError)) throw err;
                digests.delete(rel);
                problems.push({ kind: 'corrupt', path: rel, message: `cannot read its bytes (${err.message})` });
              },
            )
          : hash!.digest().then((d) => void digests.set(rel, d.toString('hex')));
        done.catch(() => {}); // awaited after the read; a read that fails first must not leave it unhandled
        hashing.push(done);
        if (rel === BUNDLE_YAML) texts.bundleYaml = Buffer.concat(keep!).toString('utf8');
        if (rel === SUMS) {
          texts.sums = Buffer.concat(keep!).toString('utf8');
          listed = parseSums(texts.sums).sums;
        }
        if (keep && opts.keep?.(rel)) kept.set(rel, Buffer.concat(keep).toString('utf8'));
        if (opened) {
          unclosed.delete(opened);
          await local((await opened).close());
        }
      },
    };
  };

  /** The file's range read, hashed and written to `dest` on a thread, its folder made first; undefined without one. */
  const copiedByRange = (dest: string, mode: number) => {
    const copy = opts.rangeCopy;
    if (!copy) return undefined;
    return (offset: number, length: number) =>
      mkdir(dirname(dest), { recursive: true })
        .then(() => copy(offset, length, { path: dest, mode }))
        .catch((err: Error) => {
          // The bundle's fault (IntegrityError) or its read's (KsBundleError) as they are; else this machine's disk.
          throw err instanceof KsBundleError ? err : new LocalFailure(err.message, { cause: err });
        });
  };

  /** Why a file is not read at all, or undefined: a size past its limit, a path SHA256SUMS does not list. */
  const refusal = (rel: string, size: number): VerifyProblem | undefined => {
    const clash = layout.addFile(rel);
    if (clash) return { kind: 'bad-entry', path: rel, message: clash };
    const max = MAX_TEXT_BYTES[rel] ?? (opts.keep?.(rel) ? MAX_KEPT_BYTES : isUserEditable(rel) ? MAX_UNCOVERED : Infinity);
    if (size > max) return { kind: 'bad-entry', path: rel, message: `${size} bytes; a bundle's ${rel} is never over ${max}` };
    if (isUncovered(rel)) return undefined;
    if (listed && !listed.has(rel)) return { kind: 'unlisted', path: rel, message: 'in the bundle but not listed in SHA256SUMS' };
    if (!listed && opts.extractTo) return { kind: 'unlisted', path: rel, message: `comes before ${SUMS} in the archive, so it cannot be checked before it is written` };
    return undefined;
  };

  // A file read by its range also had its first bytes in the chunk its header came in: never count past the total.
  const advance = (n: number) => {
    read = Math.min(read + n, total);
    onProgress({ type: 'advance', id: 'verify', bytes: read, total });
  };
  const counted = async function* (chunks: AsyncIterable<Buffer>) {
    for await (const c of chunks) {
      advance(c.length);
      yield c;
    }
  };
  onProgress({ type: 'start', id: 'verify', label: 'verify bundle', total });
  let corrupt: string | undefined;
  // The tar reader stops at the end-of-archive marker; the bytes after it (padding, the last parts of a split
  // bundle) are read too, so that a signature sees every byte and gzip checks its trailer.
  const skip = opts.rangeHash || opts.rangeCopy ? new Skip() : undefined;
  const it = counted(source.chunks({ ...opts.using, skip }))[Symbol.asyncIterator]();
  const held: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => it.next() }) };
  const tar = await tarStream(source, held);
  // Only the bytes of an uncompressed tarball can be jumped over.
  const jump = skip && tar === held ? (n: number) => void (skip.pending += n) : undefined;
  try {
    await readTar(tar, onEntry, { skip: jump });
    try {
      // tar pads the archive with zeros to a whole record: other bytes there are damage no file's hash would see.
      for await (const c of tar) if (!allZeros(c)) throw new TarFormatError('bytes other than zeros after the end-of-archive marker');
    } catch (err) {
      if (tar === held || err instanceof TarFormatError) throw err;
      throw new TarFormatError(`the gzip stream does not end as gzip ends (${(err as Error).message})`);
    }
  } catch (err: any) {
    if (err instanceof IntegrityError) throw err;
    if (err instanceof LocalFailure) throw localFailure(err.cause, opts.extractTo ? dirname(opts.extractTo) : source.path, 'unpacking the bundle');
    corrupt = err.message;
    source.stop();
  } finally {
    // An archive that ends inside an entry leaves that entry's file open.
    for (const fh of unclosed) await fh.then((h) => h.close(), () => {});
  }
  for await (const _ of held);
  await Promise.all(hashing).catch((err) => {
    throw err instanceof LocalFailure ? localFailure(err.cause, opts.extractTo ? dirname(opts.extractTo) : source.path, 'unpacking the bundle') : err;
  });
  onProgress({ type: 'done', id: 'verify', bytes: read, cached: false });
  if (corrupt || top === undefined) {
    problems.push({ kind: 'corrupt', path: source.path, message: `truncated or corrupt tar (${corrupt ?? 'no entries'})` });
  }
  const compared = compareWithSums(digests, texts);
  // A file refused as unlisted was never hashed; compareWithSums must not call it missing as well.
  const refusedPaths = new Set(problems.filter((p) => p.kind === 'unlisted').map((p) => p.path));
  const comparedProblems = compared.problems.filter((p) => !(p.kind === 'missing' && refusedPaths.has(p.path)));
  for (const p of refusedPaths) compared.fromBase.delete(p);
  const found = [...problems, ...comparedProblems];
  // A split bundle with a problem: name the part it lies in (hashing the parts costs a read only when it failed).
  if (found.length) found.unshift(...(await source.damagedParts(opts.hashFile ?? hashFile)));
  return { problems: found, meta: compared.meta, formatVersion: compared.formatVersion, top, files, bytes, digests, kept, fromBase: compared.fromBase };
}

/** An error of this machine's file system while unpacking (no space, no permission), kept apart from a bad archive. */
class LocalFailure extends Error {}

function local<T>(p: Promise<T>): Promise<T> {
  return p.catch((err) => {
    throw new LocalFailure((err as Error).message, { cause: err });
  });
}

/**
 * What GNU tar would make of the folders and files so far: a path that is a file once and a folder (or a folder's
 * parent) another time ends up as whichever came last, so it is refused rather than verified as either.
 */
class TreeShape {
  private readonly files = new Set<string>();
  private readonly folders = new Set<string>();

  addFolder(rel: string): string | undefined {
    if (!rel) return undefined;
    if (this.files.has(rel)) return 'a folder of the same name as a file before it';
    for (const p of ancestors(rel)) if (this.files.has(p)) return `inside ${p}, which is a file`;
    this.folders.add(rel);
    for (const p of ancestors(rel)) this.folders.add(p);
    return undefined;
  }

  addFile(rel: string): string | undefined {
    if (this.folders.has(rel)) return 'a file of the same name as a folder before it';
    for (const p of ancestors(rel)) if (this.files.has(p)) return `inside ${p}, which is a file`;
    this.files.add(rel);
    for (const p of ancestors(rel)) this.folders.add(p);
    return undefined;
  }
}

function ancestors(rel: string): string[] {
  const parts = rel.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** The tar bytes of `raw` (a source's chunks), through gunzip when the source is a .tar.gz. */
export async function tarStream(source: ByteSource, raw: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
  return (await isGzip(source)) ? await gunzipped(raw) : raw;
}

export async function isGzip(source: ByteSource): Promise<boolean> {
  const magic = await source.head(2);
  return magic[0] === 0x1f && magic[1] === 0x8b;
}

/**
 * A gzip bundle (.tar.gz) is read through gunzip, from fresh buffers: zlib may hold on to a chunk it was given. zlib
 * loads here, for the bundles that need it, not at every start of the CLI.
 */
async function gunzipped(input: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
  const { createGunzip } = await import('node:zlib');
  const fresh = async function* () {
    for await (const c of input) yield Buffer.from(c);
  };
  const raw = Readable.from(fresh());
  const gunzip = createGunzip({ chunkSize: READ_CHUNK });
  raw.on('error', (err) => gunzip.destroy(err));
  // A reader that stops early closes gunzip; the input goes with it (a file is closed, not left to the GC).
  gunzip.on('close', () => raw.destroy());
  return raw.pipe(gunzip);
}

async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
}
