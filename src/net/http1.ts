/**
 * The little of HTTP/1.1 (RFC 9112) the client needs: the request head, the response head, how the body is framed,
 * and the chunked coding. Pure; `exchange.ts` does the I/O.
 */

/** A response head larger than this is refused: no registry or mirror sends one. */
export const MAX_HEAD = 64 * 1024;

export interface ResponseHead {
  version: '1.0' | '1.1';
  status: number;
  statusMessage: string;
  /** Lower-case names; a repeated field's values joined with ", " as node:http does. */
  headers: Record<string, string>;
  /** Bytes the head took, blank line included. */
  length: number;
}

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const FIELD_VALUE_BREAK = /[\r\n\0]/;

export interface RequestLine {
  method?: string;
  /** The absolute URL as the target (RFC 9112 §3.2.2), as a plain-http proxy wants it. */
  absolute?: boolean;
}

/** `<METHOD> <path> HTTP/1.1` with Host and the given fields. */
export function requestHead(url: URL, headers: Record<string, string>, line: RequestLine = {}): string {
  const method = line.method ?? 'GET';
  if (!/^[A-Z]+$/.test(method)) throw new ProtocolError(`request method ${JSON.stringify(method)} is not valid in HTTP`);
  const target = line.absolute ? `${url.protocol}//${url.host}${url.pathname}${url.search}` : `${url.pathname}${url.search}`;
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${url.host}`];
  const given = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  for (const [name, value] of Object.entries(headers)) {
    // A CR or LF in a value would let it start a field of its own (a token, say, from a hostile auth server).
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || FIELD_VALUE_BREAK.test(value)) throw new ProtocolError(`request field ${JSON.stringify(name)} is not valid in HTTP`);
    if (name.toLowerCase() !== 'host') lines.push(`${name}: ${value}`);
  }
  if (!given.has('authorization') && (url.username || url.password)) {
    const user = decodeURIComponent(url.username) + ':' + decodeURIComponent(url.password);
    lines.push(`Authorization: Basic ${Buffer.from(user).toString('base64')}`);
  }
  return lines.join('\r\n') + '\r\n\r\n';
}

/**
 * The response head at the start of `bytes`, or undefined while its blank line has not arrived. Interim 1xx answers
 * are the caller's to skip (their `length` says where the next head starts).
 */
export function parseResponseHead(bytes: Buffer): ResponseHead | undefined {
  // Something else on the port (sshd's banner, a TLS server) is named at its first bytes, not after a timeout.
  const start = bytes.toString('latin1', 0, Math.min(bytes.length, 5));
  if (!'HTTP/'.startsWith(start)) throw new ProtocolError(`not an HTTP answer: ${JSON.stringify(bytes.toString('latin1', 0, 40).replace(/[^\x20-\x7e]/g, '.'))}`);
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) {
    if (bytes.length > MAX_HEAD) throw new ProtocolError(`the response head is larger than ${MAX_HEAD} bytes`);
    return undefined;
  }
  if (end > MAX_HEAD) throw new ProtocolError(`the response head is larger than ${MAX_HEAD} bytes`);
  const lines = bytes.toString('latin1', 0, end).split('\r\n');
  const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
  if (!status) throw new ProtocolError(`not an HTTP/1.1 answer: ${JSON.stringify(lines[0]!.slice(0, 40).replace(/[^\x20-\x7e]/g, '.'))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    // Folded lines (obs-fold) and fields without a name are malformed in RFC 9112; a confused server is not trusted.
    if (colon <= 0 || /^[ \t]/.test(line)) throw new ProtocolError(`malformed response field: ${JSON.stringify(line.slice(0, 40))}`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { version: status[1] === '1' ? '1.1' : '1.0', status: Number(status[2]), statusMessage: status[3] ?? '', headers, length: end + 4 };
}

/** Whether the server will take another request on this connection (RFC 9112 §9.3). */
export function keepsAlive(head: ResponseHead): boolean {
  const tokens = (head.headers.connection ?? '').toLowerCase().split(',').map((t) => t.trim());
  return head.version === '1.1' ? !tokens.includes('close') : tokens.includes('keep-alive');
}

/** How the body of a response ends (RFC 9112 §6.3); the answer to a HEAD has none, whatever its fields say. */
export function framingOf(head: ResponseHead, method = 'GET'): Framing {
  if (method === 'HEAD' || head.status < 200 || head.status === 204 || head.status === 304) return { kind: 'none' };
  const coding = head.headers['transfer-encoding'];
  if (coding !== undefined) {
    if (/(?:^|,)\s*chunked\s*$/i.test(coding)) return { kind: 'chunked' };
    // A coding we cannot undo would store its bytes as if they were the file.
    throw new ProtocolError(`unsupported Transfer-Encoding: ${coding}`);
  }
  const length = head.headers['content-length'];
  if (length === undefined) return { kind: 'close' };
  const values = new Set(length.split(',').map((v) => v.trim()));
  const only = [...values][0]!;
  if (values.size !== 1 || !/^\d{1,15}$/.test(only)) throw new ProtocolError(`bad Content-Length: ${length}`);
  return { kind: 'length', length: Number(only) };
}

/** A size line or trailer line longer than this is not HTTP. */
const MAX_LINE = 4096;

/**
 * Undoes the chunked coding as bytes arrive, in whatever pieces. Data comes back as views into the input, so a body
 * is never copied here.
 */
export class ChunkedDecoder {
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private line = '';
  private left = 0;
  /** Bytes came after the end of the body: the connection is not fit for another answer. */
  overrun = false;

  get done(): boolean {
    return this.state === 'done';
  }

  /** The body bytes in `input`, in order; bytes after the end of the body are ignored. */
  push(input: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < input.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.left, input.length - at);
        out.push(input.subarray(at, at + n));
        at += n;
        this.left -= n;
        if (this.left === 0) this.state = 'data-end';
        continue;
      }
      const nl = input.indexOf(0x0a, at);
      const stop = nl < 0 ? input.length : nl;
      this.line += input.toString('latin1', at, stop);
      if (this.line.length > MAX_LINE) throw new ProtocolError('a chunk-size line is too long');
      at = stop;
      if (nl < 0) break;
      at++;
      if (this.state === 'data-end' && this.line !== '\r') throw new ProtocolError('chunk data is longer than its size');
      if (!this.line.endsWith('\r')) throw new ProtocolError('a chunk line does not end in CRLF');
      this.endLine(this.line.slice(0, -1));
      this.line = '';
    }
    if (at < input.length) this.overrun = true;
    return out;
  }

  private endLine(line: string): void {
    if (this.state === 'data-end') {
      this.state = 'size';
    } else if (this.state === 'size') {
      const hex = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
      if (!hex) throw new ProtocolError(`bad chunk size: ${JSON.stringify(line.slice(0, 20))}`);
      this.left = parseInt(hex[1]!, 16);
      this.state = this.left === 0 ? 'trailer' : 'data';
    } else if (this.state === 'trailer' && line === '') {
      this.state = 'done';
    }
  }
}
