import { KsBundleError } from '../errors.js';
import type { LockEntry } from './entry.js';

/**
 * With --locked, what the manifest asks for must be exactly what the lock holds. Returns the locked entry for a
 * name, or throws naming the difference.
 */
export function lockedEntry(locked: LockEntry[] | undefined, kind: LockEntry['kind'], name: string): LockEntry | undefined {
  if (!locked) return undefined;
  const hit = locked.find((e) => e.kind === kind && e.name === name);
  if (!hit) {
    throw new KsBundleError('INVALID_INPUT', `--locked: the manifest asks for ${kind} "${name}", which the lock does not hold`, {
      hint: 'Build once without --locked to update the lock, and commit it.',
    });
  }
  return hit;
}

/** With --locked, a pinned value that differs from the lock's is a difference, not an update. */
export function checkLockedDigest(entry: LockEntry | undefined, sha256: string, what: string): void {
  if (entry && entry.sha256 !== sha256) {
    throw new KsBundleError('INVALID_INPUT', `--locked: ${what} is pinned to ${sha256} in the manifest, but the lock has ${entry.sha256}`, {
      hint: 'Build once without --locked to update the lock, and commit it.',
    });
  }
}
