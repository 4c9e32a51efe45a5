/**
 * The download thread's program: it hashes and writes each piece in the order sent, with plain blocking calls, and
 * counts what it consumed in shared memory; it says "space" only when asked to. A failed call is reported at once as
 * {code, message, path}, so the file stops early and the user reads what went wrong. Started by sink-thread.ts;
 * inlined into the bundled CLI by scripts/bundle-cli.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { createHash, type BinaryToTextEncoding, type Hash } from 'node:crypto';
import type { WriteFailure } from './write-error.js';

export type SinkRequest =
  | { op: 'open'; id: number; path: string; algorithms: string[]; append: boolean }
  /** `[id, offset, length, pieces]` quadruples: `length` bytes of the ring at `offset`, sent as `pieces` pieces. */
  | { op: 'write'; pieces: number[] }
  | { op: 'close'; id: number; encodings?: BinaryToTextEncoding[] };

export type SinkAnswer =
  | { op: 'space' }
  | { op: 'failed'; id: number; error: WriteFailure }
  | { op: 'closed'; id: number; error?: WriteFailure; size: number; digests: string[] };

export interface SinkWorkerData {
  ring: SharedArrayBuffer;
  /** [0] pieces consumed, [1] the main thread waits for space. */
  control: SharedArrayBuffer;
}

interface OpenFile {
  fd?: number;
  path: string;
  hashes: Hash[];
  size: number;
  error?: WriteFailure;
}

const data = workerData as SinkWorkerData;
const ring = Buffer.from(data.ring);
const control = new Int32Array(data.control);
const files = new Map<number, OpenFile>();
const port = parentPort!;
const post = (answer: SinkAnswer) => port.postMessage(answer);

function fail(id: number, f: OpenFile, err: unknown, path: string): void {
  const e = err as NodeJS.ErrnoException;
  f.error = { code: e.code ?? 'EIO', message: e.message, path };
  post({ op: 'failed', id, error: f.error });
}

function consumed(pieces: number): void {
  Atomics.add(control, 0, pieces);
  if (Atomics.compareExchange(control, 1, 1, 0) === 1) post({ op: 'space' });
}

/**
 * Hash, then write, this much at a time: the second pass finds the bytes still in the CPU cache, where a whole
 * 1 MiB region would have gone back to memory in between.
 */
const STEP = 1 << 17;

function open(m: Extract<SinkRequest, { op: 'open' }>): void {
  const f: OpenFile = { path: m.path, hashes: m.algorithms.map((a) => createHash(a)), size: 0 };
  files.set(m.id, f);
  try {
    if (m.append) {
      // A resumed download: what is already there is part of the digest.
      const fd = openSync(m.path, 'r');
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; f.size += n) for (const h of f.hashes) h.update(buf.subarray(0, n));
      closeSync(fd);
    }
    f.fd = openSync(m.path, m.append ? 'a' : 'w');
  } catch (err) {
    fail(m.id, f, err, m.path);
  }
}

function write(m: Extract<SinkRequest, { op: 'write' }>): void {
  const q = m.pieces;
  for (let i = 0; i < q.length; i += 4) {
    const f = files.get(q[i]!);
    if (f && !f.error && f.fd !== undefined) {
      const region = ring.subarray(q[i + 1]!, q[i + 1]! + q[i + 2]!);
      try {
        for (let at = 0; at < region.length; at += STEP) {
          const piece = region.subarray(at, at + STEP);
          for (const h of f.hashes) h.update(piece);
          for (let off = 0; off < piece.length; ) off += writeSync(f.fd, piece, off, piece.length - off);
          f.size += piece.length;
        }
      } catch (err) {
        fail(q[i]!, f, err, f.path);
      }
    }
    consumed(q[i + 3]!);
  }
}

function close(m: Extract<SinkRequest, { op: 'close' }>): void {
  const f = files.get(m.id);
  files.delete(m.id);
  if (!f) return;
  if (f.fd !== undefined) {
    try {
      closeSync(f.fd);
    } catch (err) {
      if (!f.error) fail(m.id, f, err, f.path);
    }
  }
  const digests = f.error ? [] : f.hashes.map((h, i) => h.digest(m.encodings?.[i] ?? 'hex'));
  post({ op: 'closed', id: m.id, error: f.error, size: f.size, digests });
}

port.on('message', (m: SinkRequest) => {
  if (m.op === 'write') write(m);
  else if (m.op === 'open') open(m);
  else close(m);
});
