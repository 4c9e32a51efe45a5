import { open, stat } from 'node:fs/promises';
import { IntegrityError } from '../errors.js';
import { parseLock, readLock, type Lock } from '../lock/lock.js';
import { isPartsFile } from '../parts/parts-file.js';
import type { OnProgress } from '../progress/events.js';
import { LOCK } from './layout.js';
import type { BundleMeta } from './meta.js';
import { openBundle } from './open.js';
import { integrityError } from './verify.js';

export interface LockOf {
  lock: Lock;
  /** The bundle's verified bundle.yaml, when a bundle (not a lock file) was given. */
  meta?: BundleMeta;
  /** The sha256 of every file the bundle holds, when a bundle was given. */
  files?: Set<string>;
}

/** A tar (ustar magic at 257) or a gzip stream, as opposed to a lock's YAML text. */
async function looksLikeArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(262);
    const { bytesRead } = await fh.read(head, 0, 262, 0);
    return (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) || head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/**
 * The lock of `path`: a lock file as is, or the lock inside a bundle (tarball, .parts or folder), read only once the
 * whole bundle verified. What `diff` and `build --since` compare.
 */
export async function lockOf(path: string, opts: { onProgress?: OnProgress } = {}): Promise<LockOf> {
  const st = await stat(path).catch(() => undefined);
  if (st?.isFile() && !isPartsFile(path) && !(await looksLikeArchive(path))) return { lock: await readLock(path) };
  const report = await (await openBundle(path)).verify({ onProgress: opts.onProgress, keep: (rel) => rel === LOCK });
  if (!report.ok || !report.meta) throw integrityError(path, report.problems);
  const text = report.kept.get(LOCK);
  if (text === undefined) throw new IntegrityError(`${path}: holds no ${LOCK}`, { hint: 'Give the lock written beside it (<bundle>.lock.yaml), or rebuild it with this ks-bundle.' });
  return { lock: parseLock(text, `${path}:${LOCK}`), meta: report.meta, files: new Set(report.digests.values()) };
}
