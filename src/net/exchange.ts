import type { Readable } from 'node:stream';
import { KsBundleError, redactUrl } from '../errors.js';
import type { BulkResponse, Take } from './bulk-response.js';
import { ChunkedDecoder, ProtocolError, framingOf, keepsAlive, parseResponseHead, type Framing, type ResponseHead } from './http1.js';
import type { Connection } from './pool.js';

/** A request body: bytes, or a stream made afresh for every try (with its Content-Length among the headers). */
export type RequestBody = Buffer | string | (() => Readable);

export interface ExchangeOptions {
  method: string;
  body?: RequestBody;
  signal?: AbortSignal;
  /** No byte either way for this long fails the exchange with a TimeoutError (retried by the caller). */
  idleMs: number;
}

/** The server closed a kept connection just as we sent on it: not a failure of the request; try a new connection. */
export class StaleConnection extends Error {}

/** Send `head` (and the body) on `conn`; resolves once the response head is in. */
export function exchange(conn: Connection, url: URL, head: string, opts: ExchangeOptions): Promise<BulkResponse> {
  return new Promise((resolve, reject) => new Exchange(conn, url, head, opts, resolve, reject));
}

/**
 * One request and its answer on one connection. Socket reads land in the connection's buffer; body bytes are handed
 * to the taker as views into it. Bytes that arrive while the taker is busy (a TLS socket may deliver a few records
 * after it was asked to pause) are copied aside and handed on in order. Errors are the socket's own (ECONNRESET, …),
 * a TimeoutError, or ERR_STREAM_PREMATURE_CLOSE for a body cut short, so the retry rules apply unchanged.
 */
class Exchange implements BulkResponse {
  status = 0;
  statusMessage = '';
  headers: Record<string, string> = {};
  private phase: 'head' | 'body' | 'done' = 'head';
  private headBytes = Buffer.alloc(0);
  private head: ResponseHead | undefined;
  private framing: Framing = { kind: 'none' };
  private left = 0;
  private decoder: ChunkedDecoder | undefined;
  /** Body bytes not handed on yet, copied out of the read buffer: before `body()` is called, or while the taker is busy. */
  private backlog: Buffer[] = [];
  /** Bytes past the end of the body: the connection cannot carry another answer. */
  private overrun = false;
  private take: Take | undefined;
  private busy = false;
  private ended = false;
  private failure: Error | undefined;
  private finished: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly unlisten: () => void;

  constructor(
    private readonly conn: Connection,
    private readonly url: URL,
    requestHead: string,
    private readonly opts: ExchangeOptions,
    private readonly resolveHead: (r: BulkResponse) => void,
    private readonly rejectHead: (e: Error) => void,
  ) {
    const socket = conn.socket;
    conn.reader = (n) => this.onRead(n);
    const onEnd = () => this.onEnd();
    const onError = (err: Error) => this.fail(err);
    const onTimeout = () => this.fail(Object.assign(new Error(`no data from ${url.host} for ${opts.idleMs / 1000} s`), { name: 'TimeoutError' }));
    const onAbort = () => this.fail(abortReason(opts.signal!));
    // A user-buffer socket may close without 'end' when nobody reads it as a stream: either one ends the body.
    socket.on('end', onEnd).on('close', onEnd).on('error', onError).on('timeout', onTimeout);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    this.unlisten = () => {
      socket.off('end', onEnd).off('close', onEnd).off('error', onError).off('timeout', onTimeout);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    socket.setTimeout(opts.idleMs);
    if (opts.signal?.aborted) this.fail(abortReason(opts.signal));
    else this.send(requestHead);
  }

  private send(requestHead: string): void {
    const socket = this.conn.socket;
    const body = this.opts.body;
    if (typeof body === 'function') {
      socket.write(requestHead);
      this.sendStream(body()).catch((err: Error) => this.fail(err));
    } else socket.write(body === undefined ? requestHead : Buffer.concat([Buffer.from(requestHead, 'latin1'), Buffer.from(body)]));
    socket.resume();
  }

  private async sendStream(stream: Readable): Promise<void> {
    const socket = this.conn.socket;
    try {
      for await (const chunk of stream) {
        if (this.phase === 'done') break;
        if (!socket.write(chunk)) await new Promise<void>((r) => socket.once('drain', r).once('close', r));
      }
    } finally {
      stream.destroy();
    }
  }

  body(take: Take): Promise<void> {
    if (this.take) throw new Error('the body was already taken');
    this.take = take;
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.finished = { resolve, reject };
      this.drain();
    });
  }

  discard(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.unlisten();
    this.conn.drop();
  }

  /** false pauses the socket: the taker is busy, has not started, or nothing more is wanted. */
  private onRead(n: number): boolean {
    if (this.phase === 'done') return false;
    const data = this.conn.buffer.subarray(0, n);
    try {
      if (this.phase === 'head') return this.readHead(data);
      const pieces = this.piecesOf(data);
      if (!this.take || this.busy || this.backlog.length) {
        for (const p of pieces) if (p.length) this.backlog.push(Buffer.from(p));
        if (this.take && !this.busy) this.drain();
        return false;
      }
      return this.pump(pieces);
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
    this.head = head;
    this.status = head.status;
    this.statusMessage = head.statusMessage;
    this.headers = head.headers;
    this.framing = framingOf(head, this.opts.method);
    this.left = this.framing.kind === 'length' ? this.framing.length : 0;
    if (this.framing.kind === 'chunked') this.decoder = new ChunkedDecoder();
    const rest = this.headBytes.subarray(head.length);
    this.headBytes = Buffer.alloc(0);
    this.phase = 'body';
    for (const p of this.piecesOf(rest)) if (p.length) this.backlog.push(Buffer.from(p));
    this.resolveHead(this);
  }

  /** The body bytes in `data`, as views into it; the framing's state moves past them. */
  private piecesOf(data: Buffer): Buffer[] {
    switch (this.framing.kind) {
      case 'length': {
        const piece = data.subarray(0, this.left);
        this.left -= piece.length;
        if (piece.length < data.length) this.overrun = true;
        return [piece];
      }
      case 'chunked': {
        const pieces = this.decoder!.push(data);
        if (this.decoder!.overrun) this.overrun = true;
        return pieces;
      }
      case 'close':
        return [data];
      case 'none':
        if (data.length) this.overrun = true;
        return [];
    }
  }

  /** Hand pieces to the taker; true when the next read may come at once. */
  private pump(pieces: Buffer[]): boolean {
    for (let i = 0; i < pieces.length; i++) {
      if (!pieces[i]!.length) continue;
      if (!this.give(pieces[i]!)) {
        // The rest point into the read buffer, which the next read overwrites.
        for (const p of pieces.slice(i + 1)) if (p.length) this.backlog.push(Buffer.from(p));
        return false;
      }
    }
    return this.settle();
  }

  /** One chunk to the taker: false when it is busy with it (or refused it, which ends the exchange). */
  private give(chunk: Buffer): boolean {
    let wait: Promise<void> | undefined;
    try {
      wait = this.take!(chunk);
    } catch (err) {
      // The taker refused the body (more bytes than the index said, say): that ends the exchange, on any path.
      this.fail(err as Error);
      return false;
    }
    if (!wait) return true;
    this.busy = true;
    wait.then(
      () => {
        this.busy = false;
        this.drain();
      },
      (err: Error) => {
        this.busy = false;
        this.fail(err);
      },
    );
    return false;
  }

  /** Hand on what waits, then read on, or finish if the body is whole. */
  private drain(): void {
    while (this.backlog.length && this.phase === 'body') {
      if (!this.give(this.backlog.shift()!)) return;
    }
    if (this.settle()) this.conn.socket.resume();
  }

  /** Finish when the body is whole; true when more must be read. */
  private settle(): boolean {
    if (this.phase !== 'body') return false;
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

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.phase === 'body' && this.framing.kind === 'close') {
      if (this.take && !this.busy && !this.backlog.length) this.finish();
      return;
    }
    if (this.phase === 'body' && this.complete()) return;
    if (this.phase === 'head' && this.conn.reused && !this.headBytes.length) return this.fail(new StaleConnection());
    if (this.phase !== 'done') this.fail(prematureClose(this.phase === 'head' ? `${this.url.host} closed the connection before answering` : this.shortBy()));
  }

  private shortBy(): string {
    return this.framing.kind === 'length' ? `the connection closed with ${this.left} body bytes still to come` : 'the connection closed before the end of the chunked body';
  }

  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.unlisten();
    if (!this.overrun && !this.ended && this.framing.kind !== 'close' && keepsAlive(this.head!)) this.conn.park();
    else this.conn.drop();
    this.finished?.resolve();
  }

  private fail(err: Error): void {
    if (this.phase === 'done') return;
    const wasHead = this.phase === 'head';
    // A reset or close on a kept connection before any answer: the server had let it go; the caller tries a new one.
    if (wasHead && this.conn.reused && !this.headBytes.length && isConnectionLoss(err)) err = new StaleConnection();
    // Not worth a retry: the same server will answer the same way. The URL says which one it was.
    if (err instanceof ProtocolError) err = new KsBundleError('HTTP', `${redactUrl(this.url.href)}: ${err.message}`, { cause: err });
    this.phase = 'done';
    this.failure = err;
    this.backlog = [];
    this.unlisten();
    this.conn.drop();
    if (wasHead) this.rejectHead(err);
    else this.finished?.reject(err);
  }
}

function isConnectionLoss(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

function prematureClose(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : Object.assign(new Error('aborted'), { name: 'AbortError' });
}
