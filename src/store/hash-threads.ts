import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { IntegrityError, KsBundleError } from '../errors.js';
import { startWorkerModule } from '../util/worker-module.js';
import { READ_CHUNK, type BufferPool } from './chunked-read.js';
import type { Hasher, StreamHash } from './hashing.js';
import type { CopyTarget, FilePiece, HashAnswer, HashRequest, HashWorkerData } from './hash-worker.js';

export type { CopyTarget, FilePiece } from './hash-worker.js';

/** The ring reads land in: 32 slots of one read each. Enough for the hashing threads to lag a little behind. */
const SLOTS = 32;
/** Smaller chunks outside the ring travel with the message; bigger ones are copied into a slot first. */
const INLINE_MAX = 64 << 10;

/** Below this many bytes, starting threads (tens of milliseconds each) costs more than hashing on the caller's. */
export const THREADS_FROM = 64 << 20;

interface Thread {
  worker: Worker;
  /** Jobs posted to it; the thread counts those done in shared memory. */
  posted: number;
  streams: number;
  /** Bytes of ranges given to it and not hashed yet. */
  rangeBytes: number;
}

/** How many hashing threads a read starts: one per core, up to four (sha256 runs at ~1.5 GB/s a core here: four outrun most disks). */
export function defaultHashThreads(): number {
  return Math.min(availableParallelism(), 4);
}

/**
 * Hashing on every core (up to four threads) for one read of a bundle: the reader fills slots of a shared ring
 * (`take`, `give`), and every hash of that read (each member's, each part's, the signature's) is fed from the slot
 * where the bytes already are, on a thread of its own, so the reading thread only reads and parses. A slot is
 * reused only when the reader and every hash that was given its bytes are done with it: memory stays at the ring.
 * `hashFile` hashes a whole file by path on the least busy thread (verifying an unpacked folder), `hashPieces` byte
 * ranges of files (a member of a tarball that the reader jumps over, also written out when unpacking), on the thread
 * with the fewest bytes queued.
 */
export class HashThreads implements Hasher, BufferPool {
  private readonly threads: Thread[];
  private readonly ring = new SharedArrayBuffer(SLOTS * READ_CHUNK);
  private readonly refs = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private readonly control: Int32Array;
  private readonly waiting = new Map<number, { resolve: (m: HashAnswer) => void; reject: (err: Error) => void }>();
  private freeWaiters: Array<() => void> = [];
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;

  constructor(opts: { threads?: number } = {}) {
    const count = Math.max(1, opts.threads ?? defaultHashThreads());
    this.control = new Int32Array(new SharedArrayBuffer(4 * (1 + count)));
    this.threads = Array.from({ length: count }, (_, thread) => {
      const workerData: HashWorkerData = { ring: this.ring, slotSize: READ_CHUNK, refs: this.refs.buffer as SharedArrayBuffer, control: this.control.buffer as SharedArrayBuffer, thread, wakeAt: SLOTS / 4 };
      const worker = startWorkerModule(new URL('./hash-worker.js', import.meta.url), workerData);
      worker.on('message', (m: HashAnswer) => this.answer(m));
      worker.on('error', (err) => this.fail(new KsBundleError('FAILED', `a hashing thread failed: ${err.message}`, { cause: err })));
      worker.on('exit', (code) => this.fail(new KsBundleError('FAILED', `a hashing thread stopped (exit ${code})`)));
      return { worker, posted: 0, streams: 0, rangeBytes: 0 };
    });
  }

  /** How many hashing threads there are. */
  get count(): number {
    return this.threads.length;
  }

  /** A hash of `algorithm` (a node:crypto name) on the thread with the fewest hashes open, then the least work queued. */
  hash(algorithm: string): StreamHash {
    const t = this.leastBusy();
    const id = ++this.nextId;
    t.streams++;
    this.post(t, { op: 'open', id, algorithm });
    let done = false;
    return {
      update: (chunk) => {
        if (done) throw new Error('update after digest');
        return this.feed(t, id, chunk);
      },
      digest: async () => {
        done = true;
        t.streams--;
        const m = await this.ask(t, { op: 'digest', id });
        return Buffer.from((m as Extract<HashAnswer, { op: 'digest' }>).digest);
      },
    };
  }

  /** sha256 and size of a whole file, read on a hashing thread (never through a link). */
  async hashFile(path: string): Promise<{ sha256: string; size: number }> {
    const m = (await this.ask(this.leastBusy(), { op: 'file', id: ++this.nextId, path }).catch((err: Error) => {
      if (this.failure) throw err;
      throw new KsBundleError('FAILED', `${path}: cannot read it (${err.message})`, { cause: err });
    })) as Extract<HashAnswer, { op: 'file' }>;
    return { sha256: m.sha256, size: m.size };
  }

  /**
   * sha256 (hex) of the pieces' bytes in order, read and hashed on the thread with the fewest range bytes queued;
   * with `copyTo`, written to that new file as well. A write that fails rejects with its errno `code` and the copy's
   * `path` (this machine's disk); a piece shorter than promised with an IntegrityError (the bundle).
   */
  async hashPieces(pieces: FilePiece[], copyTo?: CopyTarget): Promise<string> {
    const bytes = pieces.reduce((a, p) => a + (p.end - p.start), 0);
    const t = this.threads.reduce((a, b) => (b.rangeBytes < a.rangeBytes ? b : a));
    t.rangeBytes += bytes;
    try {
      const m = (await this.ask(t, { op: 'pieces', id: ++this.nextId, pieces, copyTo }).catch((err: NodeJS.ErrnoException) => {
        if (this.failure || err.path !== undefined) throw err;
        if (err.code === 'ESHORT') throw new IntegrityError(err.message.replace(/^ESHORT: /, ''));
        throw new KsBundleError('FAILED', `${pieces[0]?.path}: cannot read it (${err.message})`, { cause: err });
      })) as Extract<HashAnswer, { op: 'digest' }>;
      return Buffer.from(m.digest).toString('hex');
    } finally {
      t.rangeBytes -= bytes;
    }
  }

  /** A free slot of the ring to read into; waits while every slot is still being hashed. */
  async take(): Promise<Buffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      for (let slot = 0; slot < SLOTS; slot++) {
        if (Atomics.load(this.refs, slot) === 0) {
          Atomics.store(this.refs, slot, 1);
          return Buffer.from(this.ring, slot * READ_CHUNK, READ_CHUNK);
        }
      }
      await new Promise<void>((resolve) => {
        this.freeWaiters.push(resolve);
        Atomics.store(this.control, 0, 1);
        // A thread may have freed a slot between the scan and the flag: look again rather than wait for nothing.
        for (let slot = 0; slot < SLOTS; slot++) if (Atomics.load(this.refs, slot) === 0) return this.wakeFree();
      });
    }
  }

  /** The reader is done with a slot (hashes it was given may still hold it). */
  give(buf: Buffer): void {
    Atomics.sub(this.refs, this.slotOf(buf)!, 1);
  }

  /** Stop the threads; a digest or file still asked for fails rather than waiting forever. */
  async close(): Promise<void> {
    this.fail(new KsBundleError('FAILED', 'the hashing threads were stopped before the hash was done'));
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private slotOf(chunk: Uint8Array): number | undefined {
    return chunk.buffer === this.ring ? Math.floor(chunk.byteOffset / READ_CHUNK) : undefined;
  }

  private feed(t: Thread, id: number, chunk: Uint8Array): void | Promise<void> {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    const slot = this.slotOf(chunk);
    if (slot !== undefined) {
      const start = chunk.byteOffset - slot * READ_CHUNK;
      Atomics.add(this.refs, slot, 1);
      this.post(t, { op: 'ring', id, slot, start, end: start + chunk.length });
      return;
    }
    // A copy of exactly these bytes: a posted view would take its whole underlying buffer along.
    if (chunk.length <= INLINE_MAX) return this.post(t, { op: 'bytes', id, bytes: Uint8Array.prototype.slice.call(chunk) });
    return this.feedCopied(t, id, chunk);
  }

  private async feedCopied(t: Thread, id: number, chunk: Uint8Array): Promise<void> {
    for (let o = 0; o < chunk.length; o += READ_CHUNK) {
      const buf = await this.take();
      const n = Buffer.from(chunk.buffer, chunk.byteOffset + o, Math.min(READ_CHUNK, chunk.length - o)).copy(buf);
      this.feed(t, id, buf.subarray(0, n));
      this.give(buf);
    }
  }

  private leastBusy(): Thread {
    const queued = (t: Thread, i: number) => t.posted - Atomics.load(this.control, 1 + i);
    let best = 0;
    for (let i = 1; i < this.threads.length; i++) {
      const [a, b] = [this.threads[i]!, this.threads[best]!];
      // Fewest open streams first: a hash that spans the whole read (a part's, the signature's) keeps a thread to
      // itself, and each file's hash goes to another one; then the shortest queue.
      if (a.streams < b.streams || (a.streams === b.streams && queued(a, i) < queued(b, best))) best = i;
    }
    return this.threads[best]!;
  }

  private post(t: Thread, m: HashRequest): void {
    t.posted++;
    t.worker.postMessage(m);
  }

  private ask(t: Thread, m: HashRequest & { id: number }): Promise<HashAnswer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(m.id, { resolve, reject });
      this.post(t, m);
    });
  }

  private answer(m: HashAnswer): void {
    if (m.op === 'free') return this.wakeFree();
    const w = this.waiting.get(m.id);
    this.waiting.delete(m.id);
    if (m.op === 'failed') w?.reject(Object.assign(new Error(`${m.error.code}: ${m.error.message}`), { code: m.error.code, path: m.error.path }));
    else w?.resolve(m);
  }

  private wakeFree(): void {
    const waiters = this.freeWaiters;
    this.freeWaiters = [];
    for (const w of waiters) w();
  }

  private fail(err: Error): void {
    if (this.closing) return;
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
    this.wakeFree();
  }
}
