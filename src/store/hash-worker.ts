/**
 * A hashing thread's program (started by hash-threads.ts; inlined into the bundled CLI by
 * scripts/bundle-cli.mjs). It keeps the hashes of the streams its owner opened on it and feeds them, in the order
 * sent, either bytes that lie in the shared ring the owner reads into (no copy: only where they are is posted) or
 * small byte strings sent with the message. It also hashes whole files, and byte ranges of files, by path with
 * plain blocking reads: the owner reads on past them while this thread reads and hashes them (and, unpacking, writes
 * them out). When it is done with a ring slot it says so in shared memory, and posts "free" only when the owner
 * waits for one and several are free: on a busy machine a wake-up per slot put the reader and the hashers in lock
 * step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';

export type HashRequest =
  | { op: 'open'; id: number; algorithm: string }
  | { op: 'ring'; id: number; slot: number; start: number; end: number }
  | { op: 'bytes'; id: number; bytes: Uint8Array }
  | { op: 'digest'; id: number }
  | { op: 'file'; id: number; path: string }
  | { op: 'pieces'; id: number; pieces: FilePiece[]; copyTo?: CopyTarget };

/** Bytes [start, end) of a file. */
export interface FilePiece {
  path: string;
  start: number;
  end: number;
}

/** A new file the pieces' bytes are written to as they are hashed (unpacking). */
export interface CopyTarget {
  path: string;
  mode: number;
}

export type HashAnswer =
  | { op: 'free' }
  | { op: 'digest'; id: number; digest: Uint8Array }
  | { op: 'file'; id: number; sha256: string; size: number }
  /** `path` is set when writing the copy failed (the read was fine): this machine's disk, not the bundle. */
  | { op: 'failed'; id: number; error: { code: string; message: string; path?: string } };

export interface HashWorkerData {
  ring: SharedArrayBuffer;
  slotSize: number;
  /** One count per slot: holders (the reader, and each hash that still has to read it); 0 is free. */
  refs: SharedArrayBuffer;
  /** [0] the owner waits for a free slot; [1 + thread] jobs this thread has finished. */
  control: SharedArrayBuffer;
  thread: number;
  /** A waiting owner is woken once this many slots are free, not at the first: one wake-up per burst of reads. */
  wakeAt: number;
}

const data = workerData as HashWorkerData;
const ring = Buffer.from(data.ring);
const refs = new Int32Array(data.refs);
const control = new Int32Array(data.control);
const hashes = new Map<number, Hash>();
/**
 * Files and ranges are read through one 4 MiB buffer: flat memory, hashing near its in-memory speed (1, 4 and 8 MiB
 * cost the same CPU here), and few seeks on a rotating disk when two threads read two places of one tarball.
 */
const fileBuf = Buffer.allocUnsafe(4 << 20);
const port = parentPort!;

function hashFile(path: string): { sha256: string; size: number } {
  // A file swapped for a link since the folder was walked is not followed.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const h = createHash('sha256');
    let size = 0;
    for (let n = readSync(fd, fileBuf, 0, fileBuf.length, null); n > 0; n = readSync(fd, fileBuf, 0, fileBuf.length, null)) {
      h.update(fileBuf.subarray(0, n));
      size += n;
    }
    return { sha256: h.digest('hex'), size };
  } finally {
    closeSync(fd);
  }
}

/** A failure of writing the copy, told apart from one of reading the pieces. */
class CopyFailure extends Error {
  constructor(
    readonly code: string,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function writing<T>(path: string, act: () => T): T {
  try {
    return act();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CopyFailure(e.code ?? 'EIO', path, e.message);
  }
}

/**
 * sha256 of the pieces' bytes in order; a file shorter than a piece says so rather than hashing less. With `copyTo`,
 * each buffer read is also written to that new file (created here: never an existing file or a link), so a file is
 * unpacked with one read, one hash and one write, beside the owner's read of the rest of the tarball.
 */
function hashPieces(pieces: FilePiece[], copyTo?: CopyTarget): Uint8Array {
  const h = createHash('sha256');
  const out = copyTo && writing(copyTo.path, () => openSync(copyTo.path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, copyTo.mode));
  try {
    for (const p of pieces) {
      const fd = openSync(p.path, constants.O_RDONLY);
      try {
        for (let pos = p.start; pos < p.end; ) {
          const n = readSync(fd, fileBuf, 0, Math.min(fileBuf.length, p.end - pos), pos);
          if (n === 0) throw Object.assign(new Error(`${p.path} ends at byte ${pos}, before ${p.end}`), { code: 'ESHORT' });
          h.update(fileBuf.subarray(0, n));
          if (out !== undefined) writing(copyTo!.path, () => writeAll(out, fileBuf.subarray(0, n)));
          pos += n;
        }
      } finally {
        closeSync(fd);
      }
    }
    if (out !== undefined) writing(copyTo!.path, () => closeSync(out));
  } catch (err) {
    if (out !== undefined) {
      try {
        closeSync(out);
      } catch {
        // Closed already, or failing as the write did: the error being thrown says more.
      }
    }
    throw err;
  }
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}

function release(slot: number): void {
  if (Atomics.sub(refs, slot, 1) !== 1 || Atomics.load(control, 0) !== 1) return;
  let free = 0;
  for (let i = 0; i < refs.length; i++) if (Atomics.load(refs, i) === 0) free++;
  if (free >= data.wakeAt && Atomics.compareExchange(control, 0, 1, 0) === 1) port.postMessage({ op: 'free' } satisfies HashAnswer);
}

/** A stream that failed (an unknown algorithm) answers its digest with the error. */
const failed = new Map<number, { code: string; message: string }>();

function handle(m: HashRequest): HashAnswer | undefined {
  switch (m.op) {
    case 'open':
      try {
        hashes.set(m.id, createHash(m.algorithm));
      } catch (err) {
        failed.set(m.id, { code: 'EHASH', message: (err as Error).message });
      }
      return undefined;
    case 'ring':
      try {
        hashes.get(m.id)?.update(ring.subarray(m.slot * data.slotSize + m.start, m.slot * data.slotSize + m.end));
      } finally {
        release(m.slot);
      }
      return undefined;
    case 'bytes':
      hashes.get(m.id)?.update(m.bytes);
      return undefined;
    case 'digest': {
      const h = hashes.get(m.id);
      hashes.delete(m.id);
      const error = failed.get(m.id);
      failed.delete(m.id);
      if (!h) return { op: 'failed', id: m.id, error: error ?? { code: 'EHASH', message: `no hash ${m.id}` } };
      const d = h.digest();
      return { op: 'digest', id: m.id, digest: new Uint8Array(d.buffer, d.byteOffset, d.length) };
    }
    case 'pieces':
      try {
        return { op: 'digest', id: m.id, digest: hashPieces(m.pieces, m.copyTo) };
      } catch (err) {
        if (err instanceof CopyFailure) return { op: 'failed', id: m.id, error: { code: err.code, message: err.message, path: err.path } };
        const e = err as NodeJS.ErrnoException;
        return { op: 'failed', id: m.id, error: { code: e.code ?? 'EUNKNOWN', message: e.message } };
      }
    case 'file':
      try {
        return { op: 'file', id: m.id, ...hashFile(m.path) };
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        return { op: 'failed', id: m.id, error: { code: e.code ?? 'EUNKNOWN', message: e.message } };
      }
  }
}

port.on('message', (m: HashRequest) => {
  const answer = handle(m);
  Atomics.add(control, 1 + data.thread, 1);
  if (answer) port.postMessage(answer);
});
