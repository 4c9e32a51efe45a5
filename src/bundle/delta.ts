import { copyFile, link, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError, IntegrityError } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import { sha256OfString } from '../store/hashing.js';
import { HashThreads } from '../store/hash-threads.js';
import { mapLimit } from '../util/concurrency.js';
import { SUMS, topDirName } from './layout.js';
import type { BundleBase, BundleMeta } from './meta.js';
import { parseSums } from './sha256sums.js';
import { quoteName, relativePathProblem } from '../util/path-name.js';

/** How a delta names its base in messages: `ship 1.0.0 (sha256sums 1a2b…)`. */
export function describeBase(base: BundleBase): string {
  return `${base.name} ${base.version} (sha256sums ${base.sha256sums.slice(0, 12)}…)`;
}

/**
 * The folder of a delta's base: the one given (already verified and unpacked by the caller), or the one an earlier
 * install unpacked under the data dir, `<data-dir>/<name>-<version>`. Without it the delta is refused, naming the base.
 */
export async function baseFolder(delta: string, meta: BundleMeta & { base: BundleBase }, opts: { dataDir: string; given?: { dir: string; meta: BundleMeta } }): Promise<string> {
  const base = meta.base;
  if (opts.given) {
    if (opts.given.meta.sha256sums !== base.sha256sums) {
      throw new InputError(`${delta} is a delta over ${describeBase(base)}; the base given is ${opts.given.meta.name} ${opts.given.meta.version} (sha256sums ${opts.given.meta.sha256sums.slice(0, 12)}…)`, {
        hint: `Give the bundle this delta was built on (${base.name} ${base.version}).`,
      });
    }
    return opts.given.dir;
  }
  const dir = join(opts.dataDir, topDirName(base.name, base.version));
  const sums = await readFile(join(dir, SUMS), 'utf8').catch(() => undefined);
  if (sums === undefined) {
    throw new InputError(`${delta} is a delta over ${describeBase(base)}, and its base is not in ${dir}`, {
      hint: `Install ${base.name} ${base.version} first (it is unpacked there), or give the base bundle with --base.`,
    });
  }
  if (sha256OfString(sums) !== base.sha256sums) {
    throw new InputError(`${delta} is a delta over ${describeBase(base)}; ${dir} holds another bundle of that name and version (sha256sums ${sha256OfString(sums).slice(0, 12)}…)`, {
      hint: 'Give the base bundle this delta was built on with --base.',
    });
  }
  return dir;
}

/**
 * Complete an unpacked delta with the files it takes from its base: each is found in the base by its sha256, hashed
 * (the base proves nothing: the delta's own SHA256SUMS vouches for the bytes) and hard-linked, not copied (a copy
 * only where the two folders are on different filesystems).
 */
export async function fillFromBase(dir: string, fromBase: Map<string, string>, baseDir: string, opts: { onProgress?: OnProgress } = {}): Promise<{ linked: number; copied: number }> {
  const bySha = new Map<string, string>();
  for (const [path, sha] of parseSums(await readFile(join(baseDir, SUMS), 'utf8')).sums) if (!bySha.has(sha) && !relativePathProblem(path)) bySha.set(sha, path);
  let linked = 0;
  let copied = 0;
  let done = 0;
  const sources = new Map<string, string>();
  for (const [path, sha] of fromBase) {
    // These paths come from SHA256SUMS, not from tar entries the reader already checked: a path that leaves the
    // folder (or goes through a link) would make a hard link somewhere else. All are checked before anything is made.
    const unsafe = relativePathProblem(path);
    if (unsafe) throw new IntegrityError(`${SUMS}: ${quoteName(path)} ${unsafe}: a delta's file must be a path inside the bundle`);
    const rel = bySha.get(sha);
    if (rel === undefined) throw new IntegrityError(`${baseDir}: the base holds no file with sha256 ${sha}, which the delta's ${path} is`, { hint: 'The base in the data dir is not the one the delta was built on; give it with --base.' });
    sources.set(path, join(baseDir, rel));
  }
  opts.onProgress?.({ type: 'start', id: 'base', label: 'files from the base', total: fromBase.size, unit: 'tasks' });
  // The base's files are hashed again on every core (a base is gigabytes), each before it is linked.
  const threads = new HashThreads();
  try {
    await mapLimit([...fromBase], threads.count, async ([path, sha]) => {
      const src = sources.get(path)!;
      const got = await threads.hashFile(src).catch(() => undefined);
      if (got?.sha256 !== sha) throw new IntegrityError(`${src}: sha256 ${got?.sha256 ?? '(unreadable)'}, the delta needs ${sha} for ${path}`, { hint: 'The base was changed after it was unpacked: unpack it again from its tarball (--base).' });
      const dest = join(dir, path);
      await mkdir(dirname(dest), { recursive: true });
      try {
        await link(src, dest);
        linked++;
      } catch (err: any) {
        if (err.code !== 'EXDEV' && err.code !== 'EPERM') throw err;
        await copyFile(src, dest);
        copied++;
      }
      opts.onProgress?.({ type: 'advance', id: 'base', bytes: ++done, total: fromBase.size });
    });
  } finally {
    await threads.close();
  }
  opts.onProgress?.({ type: 'done', id: 'base', bytes: done, cached: false });
  return { linked, copied };
}
