/**
 * The packing thread (started by tar-pack-thread.ts). Like GNU tar it makes plain blocking system calls in order
 * (the kernel's readahead sees sequential reads, the output grows by whole-slot writes), and it lays the archive
 * out in a ring of slots shared with the main thread; each slot, once written, is handed over to be hashed, and
 * the ring waits (Atomics) when the hasher is behind. The single-file CLI inlines this module as a string
 * (scripts/bundle-cli.mjs, util/worker-module.ts), so it imports nothing but Node and the shared tar blocks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { END_OF_ARCHIVE, paddingFor } from './tar-header.js';

export interface PackItem {
  /** The header blocks, already encoded. */
  head: Uint8Array;
  file?: string;
  data?: Uint8Array;
  /** Body bytes: the file's size as the build recorded it. */
  size: number;
}

export interface PackJob {
  out: string;
  items: PackItem[];
  ring: SharedArrayBuffer;
  slotSize: number;
  /** One Int32: how many slots the main thread has hashed and given back. */
  control: SharedArrayBuffer;
}

/** A failure, as plain data: an Error does not cross threads with its code. `ECHANGED`: a source file changed size. */
export interface PackFailure {
  code: string;
  message: string;
  path?: string;
}

export type PackMessage = { slot: number; length: number } | { done: true } | { error: PackFailure };

class SourceChanged extends Error {
  readonly code = 'ECHANGED';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function pack(job: PackJob, post: (m: PackMessage) => void): void {
  const depth = job.ring.byteLength / job.slotSize;
  const slots = Array.from({ length: depth }, (_, i) => new Uint8Array(job.ring, i * job.slotSize, job.slotSize));
  const released = new Int32Array(job.control);
  const probe = new Uint8Array(1);
  let filled = 0;
  let buf: Uint8Array | undefined;
  let fill = 0;
  const take = (): Uint8Array => {
    if (!buf) {
      for (let r = Atomics.load(released, 0); filled - r >= depth; r = Atomics.load(released, 0)) Atomics.wait(released, 0, r);
      buf = slots[filled % depth]!;
      fill = 0;
    }
    return buf;
  };
  const flush = (fd: number) => {
    if (!buf || fill === 0) return;
    for (let off = 0; off < fill; ) off += writeSync(fd, buf, off, fill - off);
    post({ slot: filled % depth, length: fill });
    filled++;
    buf = undefined;
  };
  const put = (fd: number, bytes: Uint8Array) => {
    for (let o = 0; o < bytes.length; ) {
      const b = take();
      const n = Math.min(bytes.length - o, job.slotSize - fill);
      b.set(bytes.subarray(o, o + n), fill);
      fill += n;
      o += n;
      if (fill === job.slotSize) flush(fd);
    }
  };
  const copy = (fd: number, path: string, size: number) => {
    const src = openSync(path, 'r');
    try {
      for (let pos = 0; pos < size; ) {
        const b = take();
        const n = readSync(src, b, fill, Math.min(size - pos, job.slotSize - fill), pos);
        if (n === 0) throw new SourceChanged(path, `expected ${size} bytes, read ${pos}`);
        fill += n;
        pos += n;
        if (fill === job.slotSize) flush(fd);
      }
      if (readSync(src, probe, 0, 1, size) > 0) throw new SourceChanged(path, `expected ${size} bytes, it has more`);
    } finally {
      closeSync(src);
    }
  };
  const fd = openSync(job.out, 'wx', 0o644);
  try {
    for (const item of job.items) {
      put(fd, item.head);
      if (item.data) put(fd, item.data);
      else if (item.file) copy(fd, item.file, item.size);
      const pad = paddingFor(item.size);
      if (pad) put(fd, END_OF_ARCHIVE.subarray(0, pad));
    }
    put(fd, END_OF_ARCHIVE);
    flush(fd);
  } finally {
    closeSync(fd);
  }
}

if (parentPort) {
  const port = parentPort;
  try {
    pack(workerData as PackJob, (m) => port.postMessage(m));
    port.postMessage({ done: true } satisfies PackMessage);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    port.postMessage({ error: { code: e.code ?? 'EUNKNOWN', message: e.message, path: e.path ?? (workerData as PackJob).out } } satisfies PackMessage);
  }
}
