import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { readTar, type EntrySink, type TarEntryInfo } from './tar-reader.js';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { newSha256 } from '../store/hashing.js';
import { READ_CHUNK } from '../store/chunked-read.js';
import { IntegrityError } from '../errors.js';
import { BUNDLE_YAML, SUMS } from './layout.js';
import { compareWithSums, type VerifyProblem } from './compare.js';
import type { BundleMeta } from './meta.js';
import type { ByteSource } from '../parts/source.js';
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
}

export interface ReadOptions {
  onProgress?: OnProgress;
  /** Write every regular file under this folder as it streams (safe unpack); paths are checked first. */
  extractTo?: string;
  /** Keep the text of these (small) files. */
  keep?: (rel: string) => boolean;
}

const SMALL_TEXT = new Set([BUNDLE_YAML, SUMS]);

/**
 * Stream a bundle tarball (plain or gzip) once: check every entry's path, hash every file, optionally write it,
 * then compare with SHA256SUMS and bundle.yaml. Never unpacks anything that escapes `extractTo`, never buffers a file
 * (bundle.yaml and SHA256SUMS are kept: they are the bundle's own index).
 */
export async function readBundleTar(source: ByteSource, opts: ReadOptions = {}): Promise<BundleReadResult> {
  const onProgress = opts.onProgress ?? noProgress;
  const total = source.size;
  const problems: VerifyProblem[] = [];
  const digests = new Map<string, string>();
  const texts: { sums?: string; bundleYaml?: string } = {};
  const kept = new Map<string, string>();
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
    if (entry.type === 'Directory') return undefined;
    if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
      const inside = linkTargetInside(rel, entry.linkpath ?? '', entry.type === 'Link');
      problems.push(
        inside === undefined
          ? { kind: 'unsafe-path', path: rel, message: `link to ${entry.linkpath} points outside the bundle` }
          : { kind: 'bad-entry', path: rel, message: `link to ${entry.linkpath}: a bundle holds regular files only` },
      );
      return undefined;
    }
    if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
      problems.push({ kind: 'bad-entry', path: rel, message: `entry of type ${entry.type}: a bundle holds regular files only` });
      return undefined;
    }
    if (!rel || digests.has(rel)) {
      problems.push({ kind: 'bad-entry', path: rel || entry.path, message: rel ? 'appears twice in the archive' : 'a file where the top folder belongs' });
      return undefined;
    }
    files++;
    const hash = newSha256();
    const keep = SMALL_TEXT.has(rel) || opts.keep?.(rel) ? ([] as Buffer[]) : undefined;
    const dest = opts.extractTo ? join(opts.extractTo, rel) : undefined;
    // The folder first, then the file: `wx` refuses to follow or replace anything already there.
    const opened = dest ? mkdir(dirname(dest), { recursive: true }).then(() => open(dest, 'wx', entry.mode & 0o111 ? 0o755 : 0o644)) : undefined;
    if (opened) unclosed.add(opened);
    return {
      async write(chunk) {
        hash.update(chunk);
        bytes += chunk.length;
        keep?.push(Buffer.from(chunk));
        // Awaited: the reader reuses the chunk's buffer once this returns.
        if (opened) await writeAll(await opened, chunk);
      },
      async end() {
        digests.set(rel, hash.digest('hex'));
        if (rel === BUNDLE_YAML) texts.bundleYaml = Buffer.concat(keep!).toString('utf8');
        if (rel === SUMS) texts.sums = Buffer.concat(keep!).toString('utf8');
        if (keep && opts.keep?.(rel)) kept.set(rel, Buffer.concat(keep).toString('utf8'));
        if (opened) {
          unclosed.delete(opened);
          await (await opened).close();
        }
      },
    };
  };
  const counted = async function* (chunks: AsyncIterable<Buffer>) {
    for await (const c of chunks) {
      read += c.length;
      onProgress({ type: 'advance', id: 'verify', bytes: read, total });
      yield c;
    }
  };
  onProgress({ type: 'start', id: 'verify', label: 'verify bundle', total });
  let corrupt: string | undefined;
  // The tar reader stops at the end-of-archive marker; the bytes after it (padding, the last parts of a split
  // bundle) are read too, so that every part is checked and a signature sees every byte.
  const it = counted(source.chunks())[Symbol.asyncIterator]();
  const held: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => it.next() }) };
  try {
    await readTar(await tarStream(source, held), onEntry);
  } catch (err: any) {
    if (err instanceof IntegrityError) throw err;
    corrupt = err.message;
    source.stop();
  } finally {
    // An archive that ends inside an entry leaves that entry's file open.
    for (const fh of unclosed) await fh.then((h) => h.close(), () => {});
  }
  for await (const _ of held);
  onProgress({ type: 'done', id: 'verify', bytes: read, cached: false });
  problems.push(...source.problems);
  if (corrupt || top === undefined) {
    problems.push({ kind: 'corrupt', path: source.path, message: `truncated or corrupt tar (${corrupt ?? 'no entries'})` });
  }
  const compared = compareWithSums(digests, texts);
  return { problems: [...problems, ...compared.problems], meta: compared.meta, formatVersion: compared.formatVersion, top, files, bytes, digests, kept };
}

/** The tar bytes of `raw` (a source's chunks), through gunzip when the source is a .tar.gz. */
export async function tarStream(source: ByteSource, raw: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
  const magic = await source.head(2);
  return magic[0] === 0x1f && magic[1] === 0x8b ? gunzipped(raw) : raw;
}

/** A gzip bundle (.tar.gz) is read through gunzip, from fresh buffers: zlib may hold on to a chunk it was given. */
function gunzipped(input: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
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
