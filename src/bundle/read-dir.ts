import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { hashFile } from '../store/hashing.js';
import { BUNDLE_YAML, SUMS, UNPACKED_MARKER } from './layout.js';
import { compareWithSums } from './compare.js';
import type { VerifyProblem } from './compare.js';
import type { BundleReadResult } from './read.js';
import { linkTargetInside } from './entry-path.js';

/** Verify an unpacked bundle folder: the same checks as the tarball, file by file, two hashes at a time. */
export async function readBundleDir(root: string, opts: { onProgress?: OnProgress; keep?: (rel: string) => boolean } = {}): Promise<BundleReadResult> {
  const onProgress = opts.onProgress ?? noProgress;
  const problems: VerifyProblem[] = [];
  const files: Array<{ rel: string; size: number }> = [];
  await walk(root, root, files, problems);
  const total = files.reduce((n, f) => n + f.size, 0);
  const digests = new Map<string, string>();
  let done = 0;
  onProgress({ type: 'start', id: 'verify', label: 'verify bundle', total });
  // Hashing runs on the main thread while the next reads are in flight; two streams keep both the disk and a core busy.
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]!;
      const { sha256 } = await hashFile(join(root, f.rel));
      digests.set(f.rel, sha256);
      done += f.size;
      onProgress({ type: 'advance', id: 'verify', bytes: done, total });
    }
  };
  await Promise.all([worker(), worker()]);
  onProgress({ type: 'done', id: 'verify', bytes: done, cached: false });
  const texts = {
    bundleYaml: await readFile(join(root, BUNDLE_YAML), 'utf8').catch(() => undefined),
    sums: await readFile(join(root, SUMS), 'utf8').catch(() => undefined),
  };
  const compared = compareWithSums(digests, texts);
  const kept = new Map<string, string>();
  for (const f of files) if (opts.keep?.(f.rel)) kept.set(f.rel, await readFile(join(root, f.rel), 'utf8'));
  return { problems: [...problems, ...compared.problems], meta: compared.meta, formatVersion: compared.formatVersion, top: undefined, files: files.length, bytes: total, digests, kept };
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
