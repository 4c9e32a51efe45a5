import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { HashThreads, THREADS_FROM } from '../store/hash-threads.js';
import { mapLimit } from '../util/concurrency.js';
import { BUNDLE_YAML, SUMS, UNPACKED_MARKER } from './layout.js';
import { compareWithSums } from './compare.js';
import type { VerifyProblem } from './compare.js';
import { MAX_KEPT_BYTES, MAX_TEXT_BYTES, type BundleReadResult } from './read.js';
import { linkTargetInside } from './entry-path.js';

/** Verify an unpacked bundle folder: the same checks as the tarball, file by file, on every core. */
export async function readBundleDir(root: string, opts: { onProgress?: OnProgress; keep?: (rel: string) => boolean } = {}): Promise<BundleReadResult> {
  const onProgress = opts.onProgress ?? noProgress;
  const problems: VerifyProblem[] = [];
  const files: Array<{ rel: string; size: number }> = [];
  await walk(root, root, files, problems);
  const total = files.reduce((n, f) => n + f.size, 0);
  const digests = new Map<string, string>();
  let done = 0;
  onProgress({ type: 'start', id: 'verify', label: 'verify bundle', total });
  // Both cores hash: a taskbox verifying a folder again before it trusts it should not wait on one.
  const threads = new HashThreads({ threads: total < THREADS_FROM ? 1 : undefined });
  try {
    await mapLimit(files, threads.count, async (f) => {
      digests.set(f.rel, (await threads.hashFile(join(root, f.rel))).sha256);
      done += f.size;
      onProgress({ type: 'advance', id: 'verify', bytes: done, total });
    });
  } finally {
    await threads.close();
  }
  onProgress({ type: 'done', id: 'verify', bytes: done, cached: false });
  // Read into memory only at a size a bundle's own files have (the same limits as for a tarball).
  const small = async (rel: string): Promise<string | undefined> => {
    const f = files.find((x) => x.rel === rel);
    if (!f) return undefined;
    const max = MAX_TEXT_BYTES[rel] ?? MAX_KEPT_BYTES;
    if (f.size > max) {
      problems.push({ kind: 'bad-entry', path: rel, message: `${f.size} bytes; a bundle's ${rel} is never over ${max}` });
      return undefined;
    }
    return readFile(join(root, rel), 'utf8');
  };
  const texts = { bundleYaml: await small(BUNDLE_YAML), sums: await small(SUMS) };
  const compared = compareWithSums(digests, texts);
  const kept = new Map<string, string>();
  for (const f of files) {
    const text = opts.keep?.(f.rel) ? await small(f.rel) : undefined;
    if (text !== undefined) kept.set(f.rel, text);
  }
  return { problems: [...problems, ...compared.problems], meta: compared.meta, formatVersion: compared.formatVersion, top: undefined, files: files.length, bytes: total, digests, kept, fromBase: compared.fromBase };
}

async function walk(root: string, dir: string, out: Array<{ rel: string; size: number }>, problems: VerifyProblem[]): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const abs = join(dir, name);
    const rel = relative(root, abs).split(sep).join('/');
    if (rel === UNPACKED_MARKER) continue;
    const st = await lstat(abs);
    if (st.isDirectory()) await walk(root, abs, out, problems);
    else if (st.isFile()) out.push({ rel, size: st.size });
    else if (st.isSymbolicLink()) {
      const target = await readlink(abs);
      problems.push(
        linkTargetInside(rel, target, false) === undefined
          ? { kind: 'unsafe-path', path: rel, message: `link to ${target} points outside the bundle` }
          : { kind: 'bad-entry', path: rel, message: `link to ${target}: a bundle holds regular files only` },
      );
    } else problems.push({ kind: 'bad-entry', path: rel, message: 'not a regular file' });
  }
}
