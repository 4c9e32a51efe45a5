import { connect, type Socket } from 'node:net';
import { KsBundleError, redactUrl } from '../errors.js';
import { ChunkedDecoder, ProtocolError, framingOf, parseResponseHead, requestHead, type Framing, type ResponseHead } from './http1.js';
import type { BulkResponse, Take } from './bulk-response.js';

/**
 * Socket reads land in one reused buffer this large. node:http reads 64 KiB into a fresh buffer each time and pushes
 * it through a stream; on these machines that alone cost ~2 CPU-seconds per GB, four times what hashing costs.
 */
const READ_BUFFER = 1 << 20;
const MAX_SPARE = 8;
const spare: Buffer[] = [];

export interface RawGetOptions {
  signal?: AbortSignal;
  /** No byte either way for this long fails the exchange with a TimeoutError (retried by the caller). */
  idleMs: number;
}

/**
 * A plain-http GET on its own socket, for bodies that go straight to disk. Resolves once the response head is in;
 * the body then flows to `body(take)` in reads of up to 1 MiB. Errors are the socket's own (ECONNRESET, …), a
 * TimeoutError, or ERR_STREAM_PREMATURE_CLOSE for a body cut short, so the caller's retry rules apply unchanged.
 */
export function rawGet(url: URL, headers: Record<string, string>, opts: RawGetOptions): Promise<BulkResponse> {
  return new Promise((resolve, reject) => new Exchange(url, headers, opts, resolve, reject));
}

class Exchange implements BulkResponse {
  status = 0;
  statusMessage = '';
  headers: Record<string, string> = {};
  private readonly socket: Socket;
  private readonly buffer = spare.pop() ?? Buffer.allocUnsafe(READ_BUFFER);
  private phase: 'head' | 'body' | 'done' = 'head';
  private headBytes = Buffer.alloc(0);
  private framing: Framing = { kind: 'none' };
  private left = 0;
  private decoder: ChunkedDecoder | undefined;
  /** Body bytes that came in the same read as the head, copied out of the read buffer. */
  private early: Buffer | undefined;
  private take: Take | undefined;
  /** A `take` that has not finished with its chunk yet: the read buffer must not be refilled or pooled. */
  private inFlight: Promise<void> | undefined;
  private ended = false;
  private failure: Error | undefined;
  private finished: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private released = false;

  constructor(
    private readonly url: URL,
    headers: Record<string, string>,
    opts: RawGetOptions,
    private readonly resolveHead: (r: BulkResponse) => void,
    private readonly rejectHead: (e: Error) => void,
  ) {
    const request = requestHead(url, headers);
    this.socket = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      onread: { buffer: this.buffer, callback: (n: number) => this.onRead(n) },
    });
    this.socket.setNoDelay(true);
    this.socket.write(request);
    this.socket.setTimeout(opts.idleMs, () => {
      this.fail(Object.assign(new Error(`no data from ${url.host} for ${opts.idleMs / 1000} s`), { name: 'TimeoutError' }));
    });
    // A user-buffer socket may close without 'end' when nobody reads it as a stream: either one ends the body.
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.onEnd());
    this.socket.on('error', (err) => this.fail(err));
    if (opts.signal) {
      const { signal } = opts;
      if (signal.aborted) this.fail(abortReason(signal));
      else {
        const onAbort = () => this.fail(abortReason(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        this.socket.once('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
  }

  body(take: Take): Promise<void> {
    if (this.take) throw new Error('the body was already taken');
    this.take = take;
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.finished = { resolve, reject };
      const early = this.early;
      this.early = undefined;
      if (early && !this.deliver(early)) return;
      this.continue();
    });
  }

  discard(): void {
    this.phase = 'done';
    this.socket.destroy();
    this.release();
  }

  /** false pauses the socket: either a `take` is still busy with the buffer or nothing more is wanted. */
  private onRead(n: number): boolean {
    if (this.phase === 'done') return false;
    const data = this.buffer.subarray(0, n);
    try {
      if (this.phase === 'head') return this.readHead(data);
      return this.deliver(data);
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
  }

  private readHead(data: Buffer): boolean {
    this.headBytes = Buffer.concat([this.headBytes, data]);
    for (;;) {
      const head = parseResponseHead(this.headBytes);
      if (!head) return true;
      // 1xx answers (103 Early Hints, a stray 100) come before the real one.
      if (head.status < 200) {
        this.headBytes = this.headBytes.subarray(head.length);
        continue;
      }
      this.startBody(head);
      return false;
    }
  }

  private startBody(head: ResponseHead): void {
    this.status = head.status;
    this.statusMessage = head.statusMessage;
    this.headers = head.headers;
    this.framing = framingOf(head);
    this.left = this.framing.kind === 'length' ? this.framing.length : 0;
    if (this.framing.kind === 'chunked') this.decoder = new ChunkedDecoder();
    const rest = this.headBytes.subarray(head.length);
    this.headBytes = Buffer.alloc(0);
    this.phase = 'body';
    if (rest.length) this.early = Buffer.from(rest);
    this.resolveHead(this);
  }

  /** Hand `data` to the taker; true when the next read may come at once. */
  private deliver(data: Buffer): boolean {
    const pieces = this.piecesOf(data);
    return this.pump(pieces, 0);
  }

  private piecesOf(data: Buffer): Buffer[] {
    switch (this.framing.kind) {
      case 'length': {
        const piece = data.subarray(0, this.left);
        this.left -= piece.length;
        return [piece];
      }
      case 'chunked':
        return this.decoder!.push(data);
      case 'close':
        return [data];
      case 'none':
        return [];
    }
  }

  private pump(pieces: Buffer[], from: number): boolean {
    for (let i = from; i < pieces.length; i++) {
      if (!pieces[i]!.length) continue;
      const busy = this.take!(pieces[i]!);
      if (busy) {
        this.inFlight = busy;
        busy.then(
          () => {
            this.inFlight = undefined;
            if (this.pump(pieces, i + 1)) this.continue();
          },
          (err: Error) => {
            this.inFlight = undefined;
            this.fail(err);
          },
        );
        return false;
      }
    }
    if (this.complete()) {
      this.finish();
      return false;
    }
    return true;
  }

  private complete(): boolean {
    switch (this.framing.kind) {
      case 'length':
        return this.left === 0;
      case 'chunked':
        return this.decoder!.done;
      case 'close':
        return this.ended;
      case 'none':
        return true;
    }
  }

  /** Read on, or finish if the body is already whole. */
  private continue(): void {
    if (this.phase !== 'body') return;
    if (this.complete()) this.finish();
    else this.socket.resume();
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.phase === 'body' && this.framing.kind === 'close') {
      if (!this.inFlight && this.take) this.finish();
      return;
    }
    if (this.phase !== 'done') this.fail(prematureClose(this.phase === 'head' ? `${this.url.host} closed the connection before answering` : this.shortBy()));
  }

  private shortBy(): string {
    return this.framing.kind === 'length' ? `the connection closed with ${this.left} body bytes still to come` : 'the connection closed before the end of the chunked body';
  }

  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.socket.destroy();
    this.release();
    this.finished?.resolve();
  }

  private fail(err: Error): void {
    if (this.phase === 'done') return;
    // Not worth a retry: the same server will answer the same way. The URL says which one it was.
    if (err instanceof ProtocolError) err = new KsBundleError('HTTP', `${redactUrl(this.url.href)}: ${err.message}`, { cause: err });
    const wasHead = this.phase === 'head';
    this.phase = 'done';
    this.failure = err;
    this.socket.destroy();
    this.release();
    if (wasHead) this.rejectHead(err);
    else this.finished?.reject(err);
  }

  /** Back to the pool once no socket read and no `take` can touch the buffer again. */
  private release(): void {
    if (this.released) return;
    if (this.inFlight) {
      this.inFlight.finally(() => this.release()).catch(() => {});
      return;
    }
    this.released = true;
    if (spare.length < MAX_SPARE) spare.push(this.buffer);
  }
}

function prematureClose(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : Object.assign(new Error('aborted'), { name: 'AbortError' });
}
