import { InputError, IntegrityError } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import { quoteName } from '../util/path-name.js';
import { BUNDLE_YAML, isUserEditable, topDirName } from './layout.js';
import { readBundleDir } from './read-dir.js';
import { readBundleTar, type BundleReadResult } from './read.js';
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
 * This thread reads into a shared ring and parses; every hash (each file's, each part's, the signature's) runs on
 * the hashing threads from where the bytes were read, so a taskbox verifies at the speed of its disk.
 */
export async function verifyTarball(source: ByteSource, opts: VerifyOptions & { extractTo?: string } = {}): Promise<VerifyReport> {
  const threads = source.size >= THREADS_FROM ? new HashThreads() : undefined;
  let read: BundleReadResult;
  try {
    const tap = opts.check?.begin(threads ?? hashHere);
    read = await readBundleTar(tap ? tapSource(source, tap.update) : source, { ...opts, using: threads && { pool: threads, hasher: threads } });
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
