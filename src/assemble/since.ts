import { lockOf } from '../bundle/lock-of.js';
import type { BundleBase } from '../bundle/meta.js';
import { InputError } from '../errors.js';
import type { LockEntry } from '../lock/entry.js';
import type { OnProgress } from '../progress/events.js';

/** Lock kinds whose sha256 is the digest of a file in the bundle (a playbooks archive is unpacked, an index is apt's). */
const FILE_KINDS = new Set<LockEntry['kind']>(['image', 'blob', 'deb', 'wheel', 'file', 'manifest', 'runtime']);

/**
 * What a delta built `--since OLD` leaves out: the digests of OLD's files. From the bundle itself (verified) that is
 * every file it holds; from its lock, every artifact that is a file. The base is named by its root digest, which
 * the lock written beside a bundle records (`bundle.sha256sums`).
 */
export async function resolveSince(old: string, onProgress?: OnProgress): Promise<{ base: BundleBase; inBase: Set<string> }> {
  const got = await lockOf(old, { onProgress });
  if (got.meta && got.files) {
    return { base: { name: got.meta.name, version: got.meta.version, sha256sums: got.meta.sha256sums }, inBase: got.files };
  }
  const b = got.lock.bundle;
  if (!b) {
    throw new InputError(`${old}: this lock does not record the root digest of its bundle (bundle.sha256sums)`, {
      hint: 'Give the bundle itself, or the <bundle>.lock.yaml that a build writes beside the bundle.',
    });
  }
  return { base: b, inBase: new Set(got.lock.artifacts.filter((a) => FILE_KINDS.has(a.kind)).map((a) => a.sha256)) };
}
