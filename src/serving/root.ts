import { constants, type Stats } from 'node:fs';
import { open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isInside } from './safe-path.js';

/** A regular file opened under a ServedRoot. The caller reads through `handle` and closes it. */
export interface OpenedFile {
  handle: FileHandle;
  stats: Stats;
}

/**
 * A folder the mirror serves from, named by its real path. The bundle's top folder is resolved once, when the mirror
 * starts; a sub-folder (`repos/files`) is taken as written under it, so if that sub-folder is itself a symlink
 * (to `/etc`, or to another part of the bundle) no file really lies under it and it serves nothing.
 *
 * Every file is checked where it really is after it was opened, not only before: the path is resolved, the resolved
 * path opened without following a final symlink, and the open descriptor's own path (`/proc/self/fd/N`) must still
 * lie under the root. Someone swapping a folder of the bundle for a symlink between the check and the open gets a 404,
 * as go-containerregistry's layout reader does with its SameFile check.
 */
export class ServedRoot {
  private constructor(readonly path: string) {}

  /** The folder `dir` by its real path, resolved now. Throws when it does not exist. */
  static async resolve(dir: string): Promise<ServedRoot> {
    return new ServedRoot(await realpath(dir));
  }

  /** A folder under this one, taken as written: it serves only files that really lie under this path. */
  sub(...names: string[]): ServedRoot {
    return new ServedRoot(join(this.path, ...names));
  }

  /**
   * Open the regular file at `segments` (already checked by safeSegments) for reading. Undefined when it is missing,
   * is not a regular file, or really lies outside this root. Never blocks on a FIFO and never opens a device.
   */
  async open(segments: string[]): Promise<OpenedFile | undefined> {
    if (segments.length === 0) return undefined;
    let real: string;
    try {
      real = await realpath(join(this.path, ...segments));
    } catch {
      return undefined;
    }
    if (!isInside(this.path, real)) return undefined;
    // A FIFO or a device is never opened: opening one can block, or do something.
    if (!(await stat(real).catch(() => undefined))?.isFile()) return undefined;
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: the last component cannot have become a symlink since; O_NONBLOCK: nor a FIFO that would hold a
      // thread of the pool until a writer came.
      handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return undefined;
    }
    try {
      const stats = await handle.stat();
      if (stats.isFile() && (await this.opened(handle, real, stats))) return { handle, stats };
    } catch {
      // fall through: not served
    }
    await handle.close();
    return undefined;
  }

  /** The whole of a small file (an index, a manifest) under this root; undefined as for open(), or when larger than `max`. */
  async readSmall(segments: string[], max: number): Promise<Buffer | undefined> {
    const file = await this.open(segments);
    if (!file) return undefined;
    try {
      if (file.stats.size > max) return undefined;
      const buf = Buffer.alloc(file.stats.size);
      const { bytesRead } = await file.handle.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await file.handle.close();
    }
  }

  /** Whether the file behind `handle` is the one at `real`, inside this root. */
  private async opened(handle: FileHandle, real: string, stats: Stats): Promise<boolean> {
    const byDescriptor = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (byDescriptor !== undefined) return byDescriptor === real;
    // No /proc (a bare chroot): the path must still name the very file that was opened.
    const now = await stat(real).catch(() => undefined);
    return !!now && now.dev === stats.dev && now.ino === stats.ino;
  }
}
