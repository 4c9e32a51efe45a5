import { KsBundleError } from '../errors.js';

/** A failed write into the cache: the errno code, the system's message, the file. */
export interface WriteFailure {
  code?: string;
  message: string;
  path: string;
}

const HINTS: Record<string, string> = {
  ENOSPC: 'no space left in the cache folder: free some space there, or give a cache on a larger disk with --cache DIR.',
  EDQUOT: 'the disk quota of the cache folder is used up: free some space there, or give another cache with --cache DIR.',
  EACCES: 'this user may not write in the cache folder: fix its permissions, or give another cache with --cache DIR.',
  EPERM: 'this user may not write in the cache folder: fix its permissions, or give another cache with --cache DIR.',
  EROFS: 'the cache folder is on a read-only filesystem: give another cache with --cache DIR.',
  EIO: 'the disk of the cache folder reported an I/O error: check it (dmesg), or give another cache with --cache DIR.',
};

/** A failed write as the user should read it: the file, what the system said, and what to do. */
export function writeError(f: WriteFailure): KsBundleError {
  const what = f.code === 'ENOSPC' ? 'no space left in the cache folder' : f.message;
  return new KsBundleError('FAILED', `cannot write ${f.path}: ${what}${f.code ? ` (${f.code})` : ''}`, {
    hint: f.code ? HINTS[f.code] : undefined,
    cause: Object.assign(new Error(f.message), { code: f.code }),
  });
}

/** A Node fs error on `path` as the user should read it; anything without an errno code is passed through. */
export function asWriteError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !(code in HINTS)) return err;
  return writeError({ code, message: (err as Error).message, path });
}
