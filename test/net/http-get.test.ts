import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHttp } from '../support/http.js';
import { ContentStore } from '../../src/store/content-store.js';
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';

/**
 * Downloads over plain http read the socket themselves (src/net/raw-get.ts): each way a real server may frame a body
 * must land byte for byte, checked against coreutils.
 */
describe('plain-http downloads against a real HTTP server', () => {
  requireTools('sha256sum');
  const root = mkdtempSync(join(tmpdir(), 'ksb-httpget-'));
  const served = join(root, 'served');
  let upstream: FaultUpstream;
  let notHttp: Server;
  const big = join(served, 'big.bin');

  beforeAll(async () => {
    rmSync(served, { recursive: true, force: true });
    mkdirSync(served, { recursive: true });
    // Larger than the 1 MiB read buffer and not a multiple of it, so reads straddle every edge.
    writeFileSync(big, randomBytes(5 * (1 << 20) + 4321));
    writeFileSync(join(served, 'empty.bin'), Buffer.alloc(0));
    for (let i = 0; i < 20; i++) writeFileSync(join(served, `small-${i}.deb`), randomBytes(1000 + i * 997));
    upstream = await startFaultUpstream(served);
    // Another service on the port a manifest names by mistake: it greets first, as sshd does, and waits.
    notHttp = createTcpServer((s) => s.resume().end('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
    await new Promise<void>((r) => notHttp.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await upstream?.close();
    await new Promise((r) => notHttp?.close(r));
    rmSync(root, { recursive: true, force: true });
  });

  const http = testHttp({ retries: 2, minTimeoutMs: 10 });
  afterAll(() => http.close());
  const fetchInto = (store: string, path: string, opts: { signal?: AbortSignal; onAdvance?: () => void } = {}) =>
    http.download(
      { url: `${upstream.url}/${path}`, what: path },
      { store: new ContentStore(join(root, store)), signal: opts.signal, onProgress: (e) => e.type === 'advance' && opts.onAdvance?.() },
    );

  for (const framing of ['content-length', 'chunked', 'close-delimited', 'early-hints'] as const) {
    it(`stores a body framed by ${framing} byte for byte`, async () => {
      if (framing !== 'content-length') upstream.faults.set('/big.bin', [{ kind: framing }]);
      const got = await fetchInto(`store-${framing}`, 'big.bin');
      expect(got.sha256).toBe(sha256sum(big));
      expect(sha256sum(got.path)).toBe(sha256sum(big));
      expect(got.transferred).toBe(5 * (1 << 20) + 4321);
    });
  }

  it('stores an empty body, chunked or not', async () => {
    const plain = await fetchInto('store-empty', 'empty.bin');
    upstream.faults.set('/empty.bin', [{ kind: 'chunked' }]);
    const chunked = await fetchInto('store-empty-chunked', 'empty.bin');
    expect([plain.size, chunked.size]).toEqual([0, 0]);
    expect(plain.sha256).toBe(sha256sum(join(served, 'empty.bin')));
    expect(chunked.sha256).toBe(plain.sha256);
  });

  it('keeps the connection for the next file, as an apt mirror serving hundreds of small debs wants', async () => {
    const before = upstream.connections();
    for (let i = 0; i < 20; i++) {
      const got = await fetchInto('store-small', `small-${i}.deb`);
      expect(got.sha256).toBe(sha256sum(join(served, `small-${i}.deb`)));
    }
    // One new at most: a connection kept from the tests above may serve them all.
    expect(upstream.connections() - before).toBeLessThanOrEqual(1);
  });

  it('opens a new connection when the server has closed the kept one', async () => {
    upstream.setKeepAliveTimeout(50);
    try {
      await fetchInto('store-idle', 'small-0.deb');
      const before = upstream.connections();
      // Node's server closes an idle connection after keepAliveTimeout plus a 1 s buffer.
      await sleep(1500);
      const got = await fetchInto('store-idle', 'small-1.deb');
      expect(got.sha256).toBe(sha256sum(join(served, 'small-1.deb')));
      expect(upstream.connections() - before).toBe(1);
      // After an answer ended by closing the connection, the next file needs a new one too.
      upstream.faults.set('/small-2.deb', [{ kind: 'close-delimited' }]);
      await fetchInto('store-idle', 'small-2.deb');
      const got3 = await fetchInto('store-idle', 'small-3.deb');
      expect(got3.sha256).toBe(sha256sum(join(served, 'small-3.deb')));
      expect(upstream.connections() - before).toBe(2);
    } finally {
      upstream.setKeepAliveTimeout(5000);
    }
  });

  it('stops a body longer than its index says, whether it came with the head or later', async () => {
    for (const [file, size] of [['small-4.deb', 10], ['big.bin', 3 << 20]] as const) {
      const err = await http.download({ url: `${upstream.url}/${file}`, what: file, size }, { store: new ContentStore(join(root, 'store-long')) }).catch((e) => e);
      expect(err.code, file).toBe('INTEGRITY');
      expect(err.message).toContain(`more than the ${size} bytes its index says`);
    }
  });

  it('names the URL when something other than HTTP answers, and does not retry it', async () => {
    const url = `http://127.0.0.1:${(notHttp.address() as AddressInfo).port}/big.bin`;
    const err = await http.download({ url, what: 'big.bin' }, { store: new ContentStore(join(root, 'store-ssh')) }).catch((e) => e);
    expect(err.code).toBe('HTTP');
    expect(err.message).toContain(url);
    expect(err.message).toMatch(/not an HTTP answer: "SSH-2\.0-OpenSSH/);
  });

  it('stops when the build is cancelled mid-body, and stores nothing', async () => {
    const abort = new AbortController();
    upstream.faults.set('/big.bin', [{ kind: 'slow', delayMs: 20 }]);
    const before = upstream.requests.length;
    const err = await fetchInto('store-abort', 'big.bin', { signal: abort.signal, onAdvance: () => abort.abort() }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toMatch(/Abort/);
    expect(upstream.requests.length - before).toBe(1);
    expect(await new ContentStore(join(root, 'store-abort')).has(sha256sum(big))).toBeUndefined();
    upstream.faults.delete('/big.bin');
  });
});
