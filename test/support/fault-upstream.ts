import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

/** What the upstream does to the next request for a path; each fault is used once, in order. */
export type Fault =
  | { kind: 'reset-mid-body'; afterBytes: number }
  | { kind: 'stall-mid-body'; afterBytes: number }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'wrong-byte'; at: number }
  /** Send the body without Content-Length: chunked, or ended by closing the connection (as HTTP/1.0 servers do). */
  | { kind: 'chunked' }
  | { kind: 'close-delimited' }
  /** A 103 Early Hints answer before the real one. */
  | { kind: 'early-hints' };

export interface FaultUpstream {
  url: string;
  /** Body bytes sent per path (what crossed the wire), and request counts. */
  bytesSent: Map<string, number>;
  requests: Array<{ path: string; range?: string; status: number }>;
  /** HEAD requests (a build's plan asks sizes so), kept apart: faults and `requests` are about downloads. */
  heads: Array<{ path: string; status: number }>;
  faults: Map<string, Fault[]>;
  /** TCP connections accepted so far. */
  connections(): number;
  /** How long the server keeps an idle kept-alive connection open. */
  setKeepAliveTimeout(ms: number): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback that serves a folder with Range support and misbehaves on request: resets the
 * connection mid-body, stops sending mid-body with the connection left open, answers 500 or 429 with Retry-After,
 * dribbles the body, or flips a byte. It can also frame the body the ways HTTP allows besides Content-Length.
 */
export async function startFaultUpstream(root: string, opts: { tls?: { cert: string; key: string } } = {}): Promise<FaultUpstream> {
  const bytesSent = new Map<string, number>();
  const requests: FaultUpstream['requests'] = [];
  const heads: FaultUpstream['heads'] = [];
  const faults = new Map<string, Fault[]>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (req.method === 'HEAD') {
      const st = statSync(join(root, path), { throwIfNoEntry: false });
      const found = !!st?.isFile() && !path.includes('..');
      heads.push({ path, status: found ? 200 : 404 });
      res.writeHead(found ? 200 : 404, found ? { 'content-length': st!.size, 'accept-ranges': 'bytes' } : {}).end();
      return;
    }
    const fault = faults.get(path)?.shift();
    const file = join(root, path);
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile() || path.includes('..')) throw new Error();
      size = st.size;
    } catch {
      requests.push({ path, status: 404 });
      res.writeHead(404).end();
      return;
    }
    if (fault?.kind === 'status') {
      requests.push({ path, status: fault.status });
      res.writeHead(fault.status, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}).end('try later');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && Number(m[1]) < size) start = Number(m[1]);
    const status = start > 0 ? 206 : 200;
    requests.push({ path, range: req.headers.range, status });
    if (fault?.kind === 'close-delimited') {
      res.useChunkedEncodingByDefault = false;
      res.shouldKeepAlive = false;
    }
    if (fault?.kind === 'early-hints') res.writeEarlyHints({ link: '</index.html>; rel=preload' });
    const framed = fault?.kind === 'chunked' || fault?.kind === 'close-delimited';
    res.writeHead(status, {
      ...(framed ? {} : { 'content-length': size - start }),
      'accept-ranges': 'bytes',
      ...(start > 0 ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    let sent = start;
    const stream = createReadStream(file, { start, highWaterMark: 64 * 1024 });
    // Count only what a live client could still receive.
    res.on('close', () => stream.destroy());
    stream.on('data', (chunk: string | Buffer) => {
      if (res.destroyed) return;
      let buf = Buffer.from(chunk);
      if (fault?.kind === 'wrong-byte' && fault.at >= sent && fault.at < sent + buf.length) {
        buf = Buffer.from(buf);
        buf[fault.at - sent] ^= 0xff;
      }
      if ((fault?.kind === 'reset-mid-body' || fault?.kind === 'stall-mid-body') && sent + buf.length > fault.afterBytes) {
        const keep = Math.max(0, fault.afterBytes - sent);
        res.write(buf.subarray(0, keep));
        bytesSent.set(path, (bytesSent.get(path) ?? 0) + keep);
        stream.destroy();
        // A stall keeps the connection open and silent until the client gives up (or the server closes).
        if (fault.kind === 'reset-mid-body') res.socket?.destroy();
        return;
      }
      sent += buf.length;
      bytesSent.set(path, (bytesSent.get(path) ?? 0) + buf.length);
      if (fault?.kind === 'slow') {
        stream.pause();
        res.write(buf);
        setTimeout(() => stream.resume(), fault.delayMs);
      } else if (!res.write(buf)) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => res.end());
  };
  // Over TLS with a certificate the caller made (its CA is the client's to trust), or plain http.
  const server: Server = opts.tls ? createTlsServer({ cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) }, handle) : createServer(handle);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    bytesSent,
    requests,
    heads,
    faults,
    connections: () => connections,
    setKeepAliveTimeout: (ms) => {
      server.keepAliveTimeout = ms;
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
