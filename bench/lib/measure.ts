import { spawnSync } from 'node:child_process';

export interface Measured {
  seconds: number;
  /** Peak resident set size of the command, from GNU time. */
  maxRssMiB: number;
}

/** Run a command under GNU time: wall clock and peak RSS, the same way for ours and for the peer. */
export function measure(cmd: string, args: string[], opts: { cwd?: string } = {}): Measured {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const kb = Number(r.stderr.trim().split('\n').pop());
  return { seconds, maxRssMiB: kb / 1024 };
}

/** Ask the kernel to forget cached file pages, so a read benchmark reads the disk (root only; best effort). */
export function dropCaches(): boolean {
  return spawnSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'], { stdio: 'ignore' }).status === 0;
}


export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Drop these files' pages from the page cache (posix_fadvise DONTNEED), so the next read of them comes from the disk
 * while other jobs on the machine keep their cache. The files must have been written back first (`sync FILE`).
 */
export function dropPages(files: string[]): void {
  const script = 'import os, sys\nfor f in sys.argv[1:]:\n    fd = os.open(f, os.O_RDONLY)\n    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)\n    os.close(fd)\n';
  const r = spawnSync('python3', ['-c', script, ...files], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`posix_fadvise DONTNEED on ${files.join(' ')} failed`);
}
