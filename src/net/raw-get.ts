import { connect, type Socket } from 'node:net';
import { KsBundleError, redactUrl } from '../errors.js';
import type { BulkResponse, Take } from './bulk-response.js';
import { ChunkedDecoder, ProtocolError, framingOf, keepsAlive, parseResponseHead, requestHead, type Framing, type ResponseHead } from './http1.js';

/**
 * Socket reads land in one reused buffer this large. node:http reads 64 KiB into a fresh buffer each time and pushes
 * it through a stream; on these machines that alone cost ~2 CPU-seconds per GB, four times what hashing costs.
 */
const READ_BUFFER = 1 << 20;
const MAX_SPARE_BUFFERS = 8;
const spareBuffers: Buffer[] = [];
/** An idle connection is kept this long for the next request: under the 5 s many servers allow before closing. */
const IDLE_MS = 4000;
const MAX_IDLE_PER_HOST = 8;
const idle = new Map<string, Connection[]>();

export interface RawGetOptions {
  signal?: AbortSignal;
  /** No byte either way for this long fails the exchange with a TimeoutError (retried by the caller). */
  idleMs: number;
}

/**
 * A plain-http GET whose body goes to disk. Resolves once the response head is in; the body then flows to
 * `body(take)` in reads of up to 1 MiB. Connections are kept alive between requests to the same host, as node:http's
 * agent does: an apt mirror answers hundreds of small debs. Errors are the socket's own (ECONNRESET, …), a
 * TimeoutError, or ERR_STREAM_PREMATURE_CLOSE for a body cut short, so the caller's retry rules apply unchanged.
 */
export async function rawGet(url: URL, headers: Record<string, string>, opts: RawGetOptions): Promise<BulkResponse> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 80);
  const key = `${host}:${port}`;
  const request = requestHead(url, headers);
  for (let conn = reuse(key); conn; conn = reuse(key)) {
    try {
      return await exchange(conn, url, request, opts);
    } catch (err) {
      // The server closed a kept connection just as we sent on it: not a failure of this request.
      if (!(err instanceof StaleConnection)) throw err;
    }
  }
  return exchange(new Connection(key, host, port), url, request, opts);
}

function exchange(conn: Connection, url: URL, request: string, opts: RawGetOptions): Promise<BulkResponse> {
  return new Promise((resolve, reject) => new Exchange(conn, url, request, opts, resolve, reject));
}

/** One TCP connection and the buffer its reads land in; each exchange on it points `reader` at itself. */
class Connection {
  readonly socket: Socket;
  readonly buffer = spareBuffers.pop() ?? Buffer.allocUnsafe(READ_BUFFER);
  reader: (n: number) => boolean = () => false;
  /** It has answered before, so a failure before the first byte may only mean the server let it go. */
  reused = false;
  /** While parked: takes it off the idle list and closes it. */
  private leave: (() => void) | undefined;
  private recycled = false;

  constructor(
    readonly key: string,
    host: string,
    port: number,
  ) {
    this.socket = connect({ host, port, onread: { buffer: this.buffer, callback: (n: number) => this.reader(n) } });
    this.socket.setNoDelay(true);
  }

  /** Keep it for the next request to the same host, reading so that a close from the server is noticed. */
  park(): void {
    const list = idle.get(this.key) ?? [];
    if (list.length >= MAX_IDLE_PER_HOST || this.socket.destroyed) return this.drop();
    list.push(this);
    idle.set(this.key, list);
    this.leave = () => {
      const at = list.indexOf(this);
      if (at >= 0) list.splice(at, 1);
      this.drop();
    };
    // Bytes nobody asked for mean the server is confused about where the last answer ended.
    this.reader = () => {
      this.leave!();
      return false;
    };
    this.socket.on('end', this.leave).on('close', this.leave).on('error', this.leave).on('timeout', this.leave);
    this.socket.setTimeout(IDLE_MS);
    this.socket.unref();
    this.socket.resume();
  }

  /** Take it back from the idle list for a new exchange. */
  unpark(): void {
    const leave = this.leave!;
    this.leave = undefined;
    this.socket.off('end', leave).off('close', leave).off('error', leave).off('timeout', leave);
    this.socket.ref();
    this.reused = true;
  }

  /** Close it; the buffer goes back to the pool once `busy` (a taker still holding a chunk) is done with it. */
  drop(busy?: Promise<void>): void {
    this.socket.destroy();
    if (busy) busy.finally(() => this.recycle()).catch(() => {});
    else this.recycle();
  }

  private recycle(): void {
    if (this.recycled) return;
    this.recycled = true;
    if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(this.buffer);
  }
}

function reuse(key: string): Connection | undefined {
  const conn = idle.get(key)?.pop();
  conn?.unpark();
  return conn;
}

class StaleConnection extends Error {}

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
  /** Body bytes that came in the same read as the head, copied out of the read buffer. */
  private early: Buffer | undefined;
  /** Bytes past the end of the body: the connection cannot carry another answer. */
  private overrun = false;
  private take: Take | undefined;
  /** A `take` that has not finished with its chunk yet: the read buffer must not be refilled or pooled. */
  private inFlight: Promise<void> | undefined;
  private ended = false;
  private failure: Error | undefined;
  private finished: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly socket: Socket;
  private readonly unlisten: () => void;

  constructor(
    private readonly conn: Connection,
    private readonly url: URL,
    request: string,
    opts: RawGetOptions,
    private readonly resolveHead: (r: BulkResponse) => void,
    private readonly rejectHead: (e: Error) => void,
  ) {
    this.socket = conn.socket;
    conn.reader = (n) => this.onRead(n);
    const onEnd = () => this.onEnd();
    const onError = (err: Error) => this.fail(err);
    const onTimeout = () => this.fail(Object.assign(new Error(`no data from ${url.host} for ${opts.idleMs / 1000} s`), { name: 'TimeoutError' }));
    const onAbort = () => this.fail(abortReason(opts.signal!));
    // A user-buffer socket may close without 'end' when nobody reads it as a stream: either one ends the body.
    this.socket.on('end', onEnd).on('close', onEnd).on('error', onError).on('timeout', onTimeout);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    this.unlisten = () => {
      this.socket.off('end', onEnd).off('close', onEnd).off('error', onError).off('timeout', onTimeout);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    this.socket.setTimeout(opts.idleMs);
    if (opts.signal?.aborted) this.fail(abortReason(opts.signal));
    else {
      this.socket.write(request);
      this.socket.resume();
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
      try {
        if (early && !this.deliver(early)) return;
      } catch (err) {
        // A chunked body that does not decode: the connection goes too.
        return this.fail(err as Error);
      }
      this.continue();
    });
  }

  discard(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.unlisten();
    this.conn.drop(this.inFlight);
  }

  /** false pauses the socket: either a `take` is still busy with the buffer or nothing more is wanted. */
  private onRead(n: number): boolean {
    if (this.phase === 'done') return false;
    const data = this.conn.buffer.subarray(0, n);
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
    this.head = head;
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
    return this.pump(this.piecesOf(data), 0);
  }

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

  private pump(pieces: Buffer[], from: number): boolean {
    for (let i = from; i < pieces.length; i++) {
      if (!pieces[i]!.length) continue;
      let busy: Promise<void> | undefined;
      try {
        busy = this.take!(pieces[i]!);
      } catch (err) {
        // The taker refused the body (more bytes than the index said, say): that ends the exchange, on any path.
        this.fail(err as Error);
        return false;
      }
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
    this.unlisten();
    this.conn.drop(this.inFlight);
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
