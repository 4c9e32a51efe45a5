import { InputError, IntegrityError } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import { quoteName } from '../util/path-name.js';
import { BUNDLE_YAML, isUserEditable, topDirName } from './layout.js';
import { readBundleDir } from './read-dir.js';
import { isGzip, readBundleTar, type BundleReadResult } from './read.js';
import type { VerifyProblem } from './compare.js';
import { tapSource, type ByteCheck, type ByteSource } from '../parts/source.js';
import { HashThreads, THREADS_FROM } from '../store/hash-threads.js';
import { hashHere } from '../store/hashing.js';

export interface VerifyReport extends BundleReadResult {
  ok: boolean;
  /** Files the check skipped on purpose (the user's conf/). */
  skipped: string[];
}

export interface VerifyOptions {
  onProgress?: OnProgress;
  /** Keep the text of these (small) files in the report. */
  keep?: (rel: string) => boolean;
  /** Sees every byte of the tarball in the same read (a signature check); a folder has no tarball bytes. */
  check?: ByteCheck;
}

/**
 * Every byte of a tarball against its SHA256SUMS, in one streaming pass; with `extractTo`, written there as it goes.
 * A check of a big uncompressed tarball (or its parts) without a signature reads the headers and small files here
 * and has every file of RANGE_FROM bytes or more read and hashed (and, unpacking, written) by its byte range on a
 * hashing thread, one per core, while this read jumps over it: the files are hashed side by side. With a signature,
 * this thread reads into a shared ring and parses, and every hash (each file's, the signature's) runs on the hashing
 * threads from where the bytes were read.
 */
export async function verifyTarball(source: ByteSource, opts: VerifyOptions & { extractTo?: string } = {}): Promise<VerifyReport> {
  const big = source.size >= THREADS_FROM;
  const byRange = big && !opts.check && !(await isGzip(source));
  // A signature's hash spans the whole read: on threads it runs beside the files' hashes, on two cores.
  const threads = big && (byRange || opts.check) ? new HashThreads() : undefined;
  let read: BundleReadResult;
  try {
    const tap = opts.check?.begin(threads ?? hashHere);
    read = await readBundleTar(tap ? tapSource(source, tap.update) : source, {
      ...opts,
      using: threads && !byRange ? { pool: threads, hasher: threads } : undefined,
      rangeHash: threads && byRange && !opts.extractTo ? (offset, length) => threads.hashPieces(source.pieces(offset, length)) : undefined,
      rangeCopy: threads && byRange && opts.extractTo ? (offset, length, to) => threads.hashPieces(source.pieces(offset, length), to) : undefined,
      hashFile: threads && ((path) => threads.hashFile(path)),
    });
    await tap?.end();
  } finally {
    await threads?.close();
  }
  const problems: VerifyProblem[] = [];
  // The top folder is the bundle's name: a tarball that says otherwise would unpack somewhere it does not claim.
  if (read.meta && read.top !== undefined && read.top !== topDirName(read.meta.name, read.meta.version)) {
    problems.push({ kind: 'bad-meta', path: BUNDLE_YAML, message: `the archive's top folder is ${quoteName(read.top)}, not ${quoteName(topDirName(read.meta.name, read.meta.version))} as bundle.yaml says` });
  }
  return finish(read, problems);
}

/** Every file of an unpacked bundle folder against its SHA256SUMS. */
export async function verifyFolder(dir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  if (opts.check) throw new InputError(`${dir}: an unpacked folder has no signature to check`, { hint: 'The signature covers the tarball: verify the .tar (or its .parts) with --key.' });
  return finish(await readBundleDir(dir, opts), []);
}

function finish(read: BundleReadResult, more: VerifyProblem[]): VerifyReport {
  const problems = [...read.problems, ...more];
  const skipped = [...read.digests.keys()].filter(isUserEditable).sort();
  return { ...read, problems, ok: problems.length === 0 && read.meta !== undefined, skipped };
}

export function integrityError(where: string, problems: VerifyProblem[]): IntegrityError {
  const lines = problems.slice(0, 50).map((p) => `  ${p.kind}: ${p.path}: ${p.message}`);
  if (problems.length > 50) lines.push(`  … and ${problems.length - 50} more`);
  return new IntegrityError(`${where}: ${problems.length} integrity problem${problems.length === 1 ? '' : 's'}\n${lines.join('\n')}`, {
    hint: 'Copy the bundle again from its source and compare it with its .sha256 file; nothing was installed.',
  });
}
