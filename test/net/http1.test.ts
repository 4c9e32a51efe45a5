import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkedDecoder, MAX_HEAD, ProtocolError, framingOf, parseResponseHead, requestHead } from '../../src/net/http1.js';
import { requireTools } from '../support/tools.js';

/** The raw bytes a real server sends for our request head, read until it closes. */
function capture(port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(port, '127.0.0.1');
    sock.write(requestHead(new URL(`http://127.0.0.1:${port}${path}`), { Accept: '*/*', Connection: 'close' }));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Every way of cutting `bytes` in two, fed to a fresh decoder: the body must come out the same each time. */
function decodeSplitEverywhere(bytes: Buffer): Buffer[] {
  const results: Buffer[] = [];
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = new ChunkedDecoder();
    const out = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
    expect(d.done).toBe(true);
    results.push(Buffer.concat(out));
  }
  return results;
}

describe('HTTP/1.1 response parsing, on answers captured from real servers', () => {
  requireTools('python3');
  const dir = mkdtempSync(join(tmpdir(), 'ksb-http1-'));
  /** Written by the servers in several pieces, so a chunked answer has chunks of different sizes. */
  const body = randomBytes(5000);
  let node: Server;
  let nodePort = 0;
  let python: ChildProcess;
  let pythonPort = 0;
  const samples: Record<string, Buffer> = {};

  beforeAll(async () => {
    writeFileSync(join(dir, 'file.bin'), body);
    node = createServer((req, res) => {
      if (req.url === '/close') {
        res.useChunkedEncodingByDefault = false;
        res.shouldKeepAlive = false;
      }
      if (req.url === '/hints') res.writeEarlyHints({ link: '</file.bin>; rel=preload' });
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let at = 0, n = 1; at < body.length; at += n, n = n * 3 + 7) res.write(body.subarray(at, at + n));
      res.end();
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
    nodePort = (node.address() as AddressInfo).port;
    // Python's http.server answers HTTP/1.0 style with a Content-Length.
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    pythonPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    python = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', dir, String(pythonPort)], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${pythonPort}/`).then(() => true, () => false);
      if (ok) break;
      if (i > 200) throw new Error('python3 -m http.server did not start');
      await sleep(50);
    }
    samples.chunked = await capture(nodePort, '/chunked');
    samples.close = await capture(nodePort, '/close');
    samples.hints = await capture(nodePort, '/hints');
    samples.python = await capture(pythonPort, '/file.bin');
  });
  afterAll(async () => {
    python?.kill();
    await new Promise((r) => node?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the head only once its blank line is in, whatever the prefix', () => {
    for (const [name, sample] of Object.entries(samples)) {
      const head = parseResponseHead(sample)!;
      expect(head, name).toBeDefined();
      for (let cut = 0; cut < head.length; cut++) expect(parseResponseHead(sample.subarray(0, cut)), `${name} cut at ${cut}`).toBeUndefined();
      expect(parseResponseHead(sample.subarray(0, head.length))).toEqual(head);
    }
  });

  it('reads the status, the fields and the framing each server used', () => {
    const python = parseResponseHead(samples.python!)!;
    expect(python.status).toBe(200);
    expect(framingOf(python)).toEqual({ kind: 'length', length: body.length });
    expect(samples.python!.subarray(python.length)).toEqual(body);
    expect(python.headers.server).toMatch(/Python/);

    const closed = parseResponseHead(samples.close!)!;
    expect(framingOf(closed)).toEqual({ kind: 'close' });
    expect(samples.close!.subarray(closed.length)).toEqual(body);

    const chunked = parseResponseHead(samples.chunked!)!;
    expect(chunked.headers['content-type']).toBe('application/octet-stream');
    expect(framingOf(chunked)).toEqual({ kind: 'chunked' });
  });

  it('decodes a chunked body cut anywhere, and byte by byte', () => {
    const chunked = samples.chunked!;
    const rest = chunked.subarray(parseResponseHead(chunked)!.length);
    expect(rest.length).toBeGreaterThan(body.length); // really chunked: sizes and CRLFs around the data
    for (const got of decodeSplitEverywhere(rest)) expect(got.equals(body)).toBe(true);
    const d = new ChunkedDecoder();
    const out: Buffer[] = [];
    for (let i = 0; i < rest.length; i++) out.push(...d.push(rest.subarray(i, i + 1)).map((b) => Buffer.from(b)));
    expect(d.done).toBe(true);
    expect(Buffer.concat(out).equals(body)).toBe(true);
  });

  it('skips to the real answer after a 103 Early Hints', () => {
    const hints = samples.hints!;
    const first = parseResponseHead(hints)!;
    expect(first.status).toBe(103);
    expect(first.headers.link).toBe('</file.bin>; rel=preload');
    const real = parseResponseHead(hints.subarray(first.length))!;
    expect(real.status).toBe(200);
    expect(framingOf(real)).toEqual({ kind: 'chunked' });
  });

  it('refuses what is not HTTP, or is HTTP it cannot trust', () => {
    expect(() => parseResponseHead(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'))).toThrow(/not an HTTP answer: "SSH-2.0/);
    expect(() => parseResponseHead(Buffer.from([0x16, 0x03, 0x01]))).toThrow(ProtocolError);
    expect(() => parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\n' + 'x-pad: ' + 'a'.repeat(MAX_HEAD) + '\r\n'))).toThrow(/larger than/);
    const withFields = (fields: string) => parseResponseHead(Buffer.from(`HTTP/1.1 200 OK\r\n${fields}\r\n\r\n`))!;
    expect(() => framingOf(withFields('Content-Length: 10\r\nContent-Length: 12'))).toThrow(/bad Content-Length/);
    expect(framingOf(withFields('Content-Length: 10\r\nContent-Length: 10'))).toEqual({ kind: 'length', length: 10 });
    expect(() => framingOf(withFields('Transfer-Encoding: gzip'))).toThrow(/unsupported Transfer-Encoding/);
    expect(() => withFields('X-A: 1\r\n folded')).toThrow(/malformed/);
    expect(framingOf(parseResponseHead(Buffer.from('HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n'))!)).toEqual({ kind: 'none' });
  });

  it('refuses a chunked body whose sizes do not fit its data', () => {
    const rest = samples.chunked!.subarray(parseResponseHead(samples.chunked!)!.length);
    // The second chunk claims one byte less than it carries.
    const firstLine = rest.indexOf('\r\n');
    const second = firstLine + 2 + parseInt(rest.toString('latin1', 0, firstLine), 16) + 2;
    const sizeLine = rest.toString('latin1', second, rest.indexOf('\r\n', second));
    const size = parseInt(sizeLine, 16);
    expect(size).toBeGreaterThan(1);
    const shorter = Buffer.concat([rest.subarray(0, second), Buffer.from((size - 1).toString(16)), rest.subarray(second + sizeLine.length)]);
    expect(() => new ChunkedDecoder().push(shorter)).toThrow(/longer than its size/);
    const firstSize = rest.toString('latin1', 0, rest.indexOf('\r\n'));
    const garbage = Buffer.concat([Buffer.from('zz'), rest.subarray(firstSize.length)]);
    expect(() => new ChunkedDecoder().push(garbage)).toThrow(/bad chunk size/);
  });

  it('writes a request head that cannot be split by a hostile value', () => {
    const head = requestHead(new URL('http://user:p%40ss@mirror.example:8080/v2/a/blobs/x?ns=docker.io'), { Range: 'bytes=10-' });
    expect(head.split('\r\n')).toEqual([
      'GET /v2/a/blobs/x?ns=docker.io HTTP/1.1',
      'Host: mirror.example:8080',
      'Range: bytes=10-',
      `Authorization: Basic ${Buffer.from('user:p@ss').toString('base64')}`,
      '',
      '',
    ]);
    expect(() => requestHead(new URL('http://h/'), { Authorization: 'Bearer x\r\nX-Evil: 1' })).toThrow(ProtocolError);
  });
});
