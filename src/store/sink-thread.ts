import type { Worker } from 'node:worker_threads';
import type { BinaryToTextEncoding } from 'node:crypto';
import { startWorkerModule } from '../util/worker-module.js';
import type { SinkAnswer, SinkRequest, SinkWorkerData } from './sink-worker.js';
import { KsBundleError } from '../errors.js';
import { writeError } from './write-error.js';

/** The byte ring chunks are copied into for the writing thread: 16 MiB, split into slots as chunks arrive. */
const RING = 16 << 20;
/** A chunk larger than this is passed in pieces, so one chunk never holds the ring alone. */
const PIECE = 1 << 20;
/**
 * Pieces copied into the ring are told to the thread in one message once this many bytes wait, or FLUSH_MS after the
 * first of them. TLS hands over 16 KiB records: a message for each cost the reading thread more than the copy itself,
 * and the writing thread one small write(2) each.
 */
const BATCH = 1 << 20;
const FLUSH_MS = 5;

export interface SinkResult {
  size: number;
  /** One per algorithm asked for, in the same order, in the encoding asked for (hex by default). */
  digests: string[];
}

/**
 * Hashes and writes downloads on a second core. The thread that reads the socket only copies each chunk into shared
 * memory (≈0.1 s per GB) and posts where it is, so it can go back to the network at once; a stream pipeline that hashed
 * and wrote on the reading thread spent more time there than on the network. One thread serves every download of
 * its owner (the HTTP client), in the order the chunks arrive.
 */
export class SinkThread {
  private readonly worker: Worker;
  private readonly ring = new SharedArrayBuffer(RING);
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private readonly view = Buffer.from(this.ring);
  /** Pieces sent and not yet consumed, oldest first: where each starts in the ring. */
  private readonly pending: number[] = [];
  private sent = 0;
  private head = 0;
  private nextId = 0;
  private open = 0;
  private spaceWaiters: Array<() => void> = [];
  /** Pieces in the ring not yet told to the thread, as `[id, offset, length, pieces]` quadruples. */
  private batch: number[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private readonly closing = new Map<number, { resolve: (r: SinkResult) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;
  /** Files whose thread-side call failed: their writes stop at once. */
  private readonly failedFiles = new Map<number, KsBundleError>();
  private stopping = false;

  constructor() {
    const workerData: SinkWorkerData = { ring: this.ring, control: this.control.buffer as SharedArrayBuffer };
    this.worker = startWorkerModule(new URL('./sink-worker.js', import.meta.url), workerData);
    this.worker.unref();
    this.worker.on('message', (m: SinkAnswer) => {
      if (m.op === 'space') this.wake();
      else if (m.op === 'failed') this.failedFiles.set(m.id, writeError(m.error));
      else if (m.op === 'closed') {
        const c = this.closing.get(m.id)!;
        this.closing.delete(m.id);
        this.failedFiles.delete(m.id);
        if (--this.open === 0) this.worker.unref();
        if (m.error) c.reject(writeError(m.error));
        else c.resolve({ size: m.size, digests: m.digests });
      }
    });
    this.worker.on('error', (err) => this.fail(new KsBundleError('FAILED', `the download thread failed: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code) => this.fail(new KsBundleError('FAILED', this.stopping ? 'the download thread was stopped' : `the download thread stopped (exit ${code})`)));
  }

  private post(request: SinkRequest): void {
    this.worker.postMessage(request);
  }

  /** End the thread; files still open fail. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }

  /** Start a file: `append` continues a partial one, whose bytes are hashed first. */
  openFile(path: string, opts: { append: boolean; algorithms: string[]; encodings?: BinaryToTextEncoding[] }): SinkFile {
    if (this.failure) throw this.failure;
    const id = ++this.nextId;
    if (this.open++ === 0) this.worker.ref();
    this.post({ op: 'open', id, path, append: opts.append, algorithms: opts.algorithms });
    return new SinkFile(this, id, opts.encodings);
  }

  /**
   * @internal Copy `chunk` into the ring for file `id`. Returns nothing when it went at once, as it does unless the
   * ring is full; then a promise that resolves once all of it is sent.
   */
  write(id: number, chunk: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const failed = this.failedFiles.get(id);
    if (failed) throw failed;
    for (let o = 0; o < chunk.length; o += PIECE) {
      // The caller's buffer is reused once this returns: what waits for space is a copy.
      if (!this.trySend(id, chunk.subarray(o, o + PIECE))) return this.sendWhenThereIsSpace(id, Buffer.from(chunk.subarray(o)));
    }
    return undefined;
  }

  private async sendWhenThereIsSpace(id: number, rest: Buffer): Promise<void> {
    for (let o = 0; o < rest.length; o += PIECE) {
      const piece = rest.subarray(o, o + PIECE);
      while (!this.trySend(id, piece)) {
        await this.waitForSpace();
        // A thread that died consumes nothing more: waiting on would hang.
        if (this.failure) throw this.failure;
      }
    }
  }

  private trySend(id: number, piece: Buffer): boolean {
    const offset = this.reserve(piece.length);
    if (offset < 0) return false;
    piece.copy(this.view, offset);
    // Right after the last piece of the same file: one longer write.
    const b = this.batch;
    const last = b.length - 4;
    if (last >= 0 && b[last] === id && b[last + 1]! + b[last + 2]! === offset) {
      b[last + 2]! += piece.length;
      b[last + 3]!++;
    } else b.push(id, offset, piece.length, 1);
    this.batchBytes += piece.length;
    if (this.batchBytes >= BATCH) this.flush();
    else if (!this.flushScheduled) {
      // Not at the end of this turn of the event loop: a socket's reads come one to a turn, so that flushed every piece.
      this.flushScheduled = true;
      setTimeout(() => this.flush(), FLUSH_MS);
    }
    return true;
  }

  /** Tell the thread about every piece copied in so far. */
  private flush(): void {
    this.flushScheduled = false;
    // A stopped thread takes no more messages; its open files have failed.
    if (!this.batch.length || this.stopping) return;
    this.post({ op: 'write', pieces: this.batch });
    this.batch = [];
    this.batchBytes = 0;
  }

  /** @internal */
  close(id: number, encodings?: BinaryToTextEncoding[]): Promise<SinkResult> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.closing.set(id, { resolve, reject });
      this.flush();
      this.post({ op: 'close', id, encodings });
    });
  }

  /** Where `length` bytes fit in the ring after what is still in flight, or -1 if they do not fit yet. */
  private reserve(length: number): number {
    const consumed = Atomics.load(this.control, 0);
    while (this.sent - this.pending.length < consumed) this.pending.shift();
    let start = this.head;
    if (this.pending.length === 0) start = 0;
    else {
      const tail = this.pending[0]!; // the oldest piece still in flight
      if (start >= tail) {
        // Free are [head, RING) and [0, tail): the end if it fits, else the start.
        if (RING - start < length) start = 0;
        if (start === 0 && length >= tail) return -1;
      } else if (tail - start <= length) return -1;
    }
    this.head = start + length;
    this.pending.push(start);
    this.sent++;
    return start;
  }

  private waitForSpace(): Promise<void> {
    // What waits in the batch is what the thread must consume to make room.
    this.flush();
    return new Promise((resolve) => {
      this.spaceWaiters.push(resolve);
      Atomics.store(this.control, 1, 1);
      // The thread may have consumed everything between our check and the flag: look again.
      if (Atomics.load(this.control, 0) > this.sent - this.pending.length) this.wake();
    });
  }

  private wake(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const c of this.closing.values()) c.reject(this.failure);
    this.closing.clear();
    this.wake();
  }
}

/** One file being written by the SinkThread. */
export class SinkFile {
  constructor(
    private readonly thread: SinkThread,
    private readonly id: number,
    private readonly encodings?: BinaryToTextEncoding[],
  ) {}

  /** Nothing when the chunk went at once; otherwise wait for the promise before the next write. The chunk may be reused at once. */
  write(chunk: Buffer): Promise<void> | undefined {
    return this.thread.write(this.id, chunk);
  }

  /** Wait for every byte to be written and give the size and digests; a write error rejects here. */
  close(): Promise<SinkResult> {
    return this.thread.close(this.id, this.encodings);
  }
}
