import { describe, expect, it } from 'vitest';
import { DiskSpaceError, checkDiskSpace, diskShortfalls, type DiskNeed } from '../../../src/util/disk-space.js';

const need = (dir: string, device: number, bytes: number, free: number, what = 'the bundle'): DiskNeed => ({ dir, device, bytes, free, what });

describe('diskShortfalls', () => {
  it('adds up the needs of folders on one file system', () => {
    const out = need('/data/out', 1, 600, 1000);
    const cache = need('/data/cache', 1, 500, 1000, 'downloads into the cache');
    expect(diskShortfalls([out, cache])).toEqual([{ needs: [out, cache], needed: 1100, free: 1000 }]);
    expect(diskShortfalls([out, { ...cache, bytes: 400 }])).toEqual([]);
  });

  it('checks folders on different file systems each against its own free space', () => {
    const out = need('/mnt/usb', 1, 600, 500);
    const cache = need('/var/cache', 2, 500, 1000);
    expect(diskShortfalls([out, cache])).toEqual([{ needs: [out], needed: 600, free: 500 }]);
  });

  it('fits exactly when needed equals free', () => {
    expect(diskShortfalls([need('/x', 1, 1000, 1000)])).toEqual([]);
  });
});

describe('checkDiskSpace', () => {
  it('throws an exit-1 error naming the folder, what is needed and what is free, in bytes', () => {
    let err: unknown;
    try {
      checkDiskSpace([need('/mnt/usb', 7, 3 * 1024 * 1024, 1024 * 1024)], 'building demo 1.0', 'downloading');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DiskSpaceError);
    const e = err as DiskSpaceError;
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain('not enough disk space for building demo 1.0; stopped before downloading');
    expect(e.message).toContain('the bundle in /mnt/usb: needs 3.0 MiB (3145728 bytes), 1.0 MiB (1048576 bytes) free');
    expect(e.hint).toContain('/mnt/usb');
  });
});
