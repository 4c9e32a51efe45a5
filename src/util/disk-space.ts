import { stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { KsBundleError } from '../errors.js';
import { formatBytes } from '../progress/format.js';

/** A folder about to be written into, and the file system it is on (that of its nearest existing ancestor). */
export interface DiskAt {
  /** The folder as asked about (it may not exist yet). */
  dir: string;
  /** st_dev of its nearest existing ancestor: two folders with the same device share their free space. */
  device: number;
  /** Bytes an unprivileged writer may still use there (statfs f_bavail × f_bsize). */
  free: number;
}

/** What must fit into one folder before a command writes anything there. */
export interface DiskNeed extends DiskAt {
  bytes: number;
  /** What goes there, for the message: "the bundle", "downloads into the cache". */
  what: string;
}

/** Needs that share a file system, summed, and what it has free: more than it holds. */
export interface DiskShortfall {
  needs: DiskNeed[];
  needed: number;
  free: number;
}

export async function diskAt(dir: string): Promise<DiskAt> {
  let existing = resolve(dir);
  for (;;) {
    const st = await stat(existing).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (st) {
      const fs = await statfs(st.isDirectory() ? existing : dirname(existing));
      return { dir: resolve(dir), device: st.dev, free: fs.bavail * fs.bsize };
    }
    const up = dirname(existing);
    if (up === existing) throw new KsBundleError('FAILED', `${dir}: no existing folder above it`);
    existing = up;
  }
}

/**
 * Every file system that cannot hold what is to be written there: needs on the same device are summed, since they
 * take from the same free space. Pure.
 */
export function diskShortfalls(needs: readonly DiskNeed[]): DiskShortfall[] {
  const byDevice = new Map<number, DiskNeed[]>();
  for (const n of needs) byDevice.set(n.device, [...(byDevice.get(n.device) ?? []), n]);
  const out: DiskShortfall[] = [];
  for (const group of byDevice.values()) {
    const needed = group.reduce((s, n) => s + n.bytes, 0);
    const free = Math.min(...group.map((n) => n.free));
    if (needed > free) out.push({ needs: group, needed, free });
  }
  return out;
}

/** Both figures as people read them and as scripts compare them: "1.2 GiB (1288490188 bytes)". */
export function bytesBoth(n: number): string {
  return `${formatBytes(n)} (${n} bytes)`;
}

/** Not enough room to finish: named before anything is written, with what is needed and what is free where. Exit 1. */
export class DiskSpaceError extends KsBundleError {
  readonly shortfalls: DiskShortfall[];
  /** `doing`: "building demo 1.0"; `before`: what did not start, "downloading". */
  constructor(shortfalls: DiskShortfall[], doing: string, before: string) {
    const lines = shortfalls.map((s) => {
      const where = s.needs.map((n) => `${n.what} in ${n.dir}`).join(' and ');
      const shared = s.needs.length > 1 ? ' (one file system)' : '';
      return `  ${where}${shared}: needs ${bytesBoth(s.needed)}, ${bytesBoth(s.free)} free`;
    });
    const folders = [...new Set(shortfalls.flatMap((s) => s.needs.map((n) => n.dir)))];
    super('FAILED', `not enough disk space for ${doing}; stopped before ${before}:\n${lines.join('\n')}`, {
      hint: `Free space in ${folders.join(' or ')}, or point the command at a folder with more room.`,
    });
    this.shortfalls = shortfalls;
  }
}

/** Throw DiskSpaceError when any file system cannot hold its needs. */
export function checkDiskSpace(needs: readonly DiskNeed[], doing: string, before: string): void {
  const short = diskShortfalls(needs);
  if (short.length) throw new DiskSpaceError(short, doing, before);
}
