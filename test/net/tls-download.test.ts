import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsTrust } from '../../src/net/tls.js';
import { ContentStore } from '../../src/store/content-store.js';
import { runCli } from '../support/cli.js';
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream.js';
import { testHttp } from '../support/http.js';
import { sha256sum } from '../support/sha256sum.js';
import { makeCa, makeServerCert } from '../support/tls-certs.js';
import { isRoot, requireTools } from '../support/tools.js';
import { manifestHead } from '../support/manifest-head.js';

/**
 * Downloads over TLS take the same path as plain http (HTTP/1.1 on a socket of our own, reads into a reused buffer):
 * against a real HTTPS server, every framing lands byte for byte, connections are kept, faults are retried and resumed
 * with Range, and an untrusted certificate fails at once. Through tinyproxy, https goes by CONNECT and http by
 * absolute-form requests, and NO_PROXY is honoured; NODE_EXTRA_CA_CERTS is trusted like the system CAs.
 */
const MB = 1 << 20;
const root = mkdtempSync(join(tmpdir(), 'ksb-tls-'));
const served = join(root, 'served');
let tlsUp: FaultUpstream;
let plainUp: FaultUpstream;
let ca: { cert: string; key: string };
let trust: TlsTrust;
const big = join(served, 'big.bin');

beforeAll(async () => {
  requireTools('openssl', 'sha256sum', 'tar');
  mkdirSync(served, { recursive: true });
  writeFileSync(big, randomBytes(9 * MB + 4321));
  writeFileSync(join(served, 'pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n');
  for (let i = 0; i < 20; i++) writeFileSync(join(served, `small-${i}.deb`), randomBytes(1000 + i * 997));
  mkdirSync(join(root, 'pki'));
  ca = makeCa(join(root, 'pki'), 'ca');
  const server = makeServerCert(join(root, 'pki'), ca, ['localhost']);
  tlsUp = await startFaultUpstream(served, { tls: server });
  plainUp = await startFaultUpstream(served);
  trust = { hosts: [new URL(tlsUp.url).host], ca: readFileSync(ca.cert, 'utf8') };
});
afterAll(async () => {
  await tlsUp?.close();
  await plainUp?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('downloads over TLS against a real HTTPS server', () => {
  const http = testHttp({ retries: 3, minTimeoutMs: 10, maxTimeoutMs: 50 });
  afterAll(() => http.close());
  const fetchInto = (store: string, path: string, size?: number) =>
    http.download({ url: `${tlsUp.url}/${path}`, what: path, tls: trust, size }, { store: new ContentStore(join(root, store)) });

  for (const framing of ['content-length', 'chunked', 'close-delimited', 'early-hints'] as const) {
    it(`stores a body framed by ${framing} byte for byte`, async () => {
      if (framing !== 'content-length') tlsUp.faults.set('/big.bin', [{ kind: framing }]);
      const got = await fetchInto(`store-${framing}`, 'big.bin');
      expect(sha256sum(got.path)).toBe(sha256sum(big));
      expect(got.transferred).toBe(9 * MB + 4321);
    });
  }

  it('keeps the TLS connection for the next file', async () => {
    const before = tlsUp.connections();
    for (let i = 0; i < 20; i++) expect(sha256sum((await fetchInto('store-small', `small-${i}.deb`)).path)).toBe(sha256sum(join(served, `small-${i}.deb`)));
    expect(tlsUp.connections() - before).toBeLessThanOrEqual(1);
  });

  it('resumes with Range after a reset mid-body, and waits out a 429', async () => {
    tlsUp.faults.set('/big.bin', [{ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'reset-mid-body', afterBytes: 3 * MB }]);
    const earlier = tlsUp.requests.length;
    const got = await fetchInto('store-reset', 'big.bin', 9 * MB + 4321);
    const asked = tlsUp.requests.slice(earlier).filter((q) => q.path === '/big.bin');
    expect(asked.map((q) => q.status)).toEqual([429, 200, 206]);
    expect(Number(asked[2]!.range!.match(/^bytes=(\d+)-$/)![1])).toBeGreaterThan(0);
    expect(sha256sum(got.path)).toBe(sha256sum(big));
  });

  it('gives up on a silent server after the idle timeout and resumes with Range', async () => {
    const quick = testHttp({ retries: 2, minTimeoutMs: 10 }, { idleMs: 500 });
    tlsUp.faults.set('/big.bin', [{ kind: 'stall-mid-body', afterBytes: 2 * MB }]);
    const earlier = tlsUp.requests.length;
    const got = await quick.download({ url: `${tlsUp.url}/big.bin`, what: 'big.bin', tls: trust }, { store: new ContentStore(join(root, 'store-stall')) });
    await quick.close();
    const asked = tlsUp.requests.slice(earlier).filter((q) => q.path === '/big.bin');
    expect(asked.map((q) => q.status)).toEqual([200, 206]);
    expect(sha256sum(got.path)).toBe(sha256sum(big));
  });

  it('reads small answers whole within a bound; a HEAD of a large file is not held to it', async () => {
    const head = await http.request(`${tlsUp.url}/big.bin`, { method: 'HEAD', tls: trust, maxBytes: 1 << 20 });
    expect([head.status, head.bytes.length, head.headers.get('content-length')]).toEqual([200, 0, String(9 * MB + 4321)]);
    const small = await http.request(`${tlsUp.url}/small-3.deb`, { tls: trust });
    expect(sha256sum(join(served, 'small-3.deb'))).toBe(createHash('sha256').update(small.bytes).digest('hex'));
    const err = await http.request(`${tlsUp.url}/big.bin`, { tls: trust, maxBytes: 1 << 20, what: 'big.bin' }).catch((e) => e);
    expect([err.code, err.message]).toEqual(['HTTP', `big.bin (${tlsUp.url}/big.bin): the answer is larger than the 1 MiB limit`]);
  });

  it('fails at once on a certificate nobody trusts, naming the URL, without a retry', async () => {
    const earlier = tlsUp.requests.length;
    const err = await http.download({ url: `${tlsUp.url}/big.bin`, what: 'big.bin' }, { store: new ContentStore(join(root, 'store-untrusted')) }).catch((e) => e);
    expect(err.code).toBe('NETWORK');
    expect(err.message).toContain(`${tlsUp.url}/big.bin: TLS certificate not trusted`);
    expect(tlsUp.requests.length).toBe(earlier);
  });
});

/** The CLI, as a user runs it: the environment's CA file and proxy variables. */
describe('the CLI over TLS, with NODE_EXTRA_CA_CERTS and through a real proxy', () => {
  let proxy: ChildProcess | undefined;
  let proxyPort = 0;
  let proxyLog = '';
  const noProxyEnv = { https_proxy: '', HTTPS_PROXY: '', http_proxy: '', HTTP_PROXY: '', no_proxy: '', NO_PROXY: '' };

  beforeAll(async () => {
    requireTools('tinyproxy');
    proxyPort = await freePort();
    proxyLog = join(root, 'tinyproxy.log');
    const conf = join(root, 'tinyproxy.conf');
    // No ConnectPort line: CONNECT to any port (the upstream listens on a random one). Loopback only.
    writeFileSync(conf, `Port ${proxyPort}\nListen 127.0.0.1\nTimeout 60\nMaxClients 50\nAllow 127.0.0.1\nLogFile "${proxyLog}"\nLogLevel Connect\nPidFile "${join(root, 'tinyproxy.pid')}"\n`);
    proxy = spawn('tinyproxy', ['-d', '-c', conf], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await listening(proxyPort)); i++) await sleep(50);
  });
  afterAll(() => {
    proxy?.kill();
  });

  async function manifest(name: string, base: string): Promise<string> {
    mkdirSync(join(root, 'pb'), { recursive: true });
    writeFileSync(join(root, 'pb', 'site.yml'), '- hosts: all\n  tasks: []\n');
    const file = join(root, `${name}.yaml`);
    writeFileSync(
      file,
      `${manifestHead(name)}  files:
    - {url: "${base}/big.bin", sha256: ${sha256sum(big)}}
  manifests:
    - {url: "${base}/pod.yaml", sha256: ${sha256sum(join(served, 'pod.yaml'))}}
  playbooks: {path: ./pb, entry: site.yml}
`,
    );
    return file;
  }
  const build = (m: string, cache: string, env: NodeJS.ProcessEnv) => runCli(['build', '-m', m, '-o', join(root, 'out', `${cache}.tar`), '--cache', join(root, cache)], { env: { ...noProxyEnv, ...env } });
  const bundled = (cache: string) => {
    const dest = join(root, 'out', `${cache}.x`);
    mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xf', join(root, 'out', `${cache}.tar`), '-C', dest, '--strip-components=1']);
    return sha256sum(join(dest, 'repos/files/big.bin'));
  };

  it('trusts the CA in NODE_EXTRA_CA_CERTS, and without it names the URL and says where a CA goes', async () => {
    const m = await manifest('extra-ca', tlsUp.url);
    const ok = await build(m, 'cache-extra', { NODE_EXTRA_CA_CERTS: ca.cert });
    expect(ok.code, ok.stderr).toBe(0);
    expect(bundled('cache-extra')).toBe(sha256sum(big));
    const bad = await build(m, 'cache-noca', { NODE_EXTRA_CA_CERTS: '' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${tlsUp.url}/big.bin: network: TLS certificate not trusted`);
    expect(bad.stderr).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('goes through HTTPS_PROXY by CONNECT and HTTP_PROXY by absolute URL, and straight to hosts in NO_PROXY', async () => {
    const viaTls = await build(await manifest('proxied-tls', tlsUp.url), 'cache-proxy-tls', { NODE_EXTRA_CA_CERTS: ca.cert, HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` });
    expect(viaTls.code, viaTls.stderr).toBe(0);
    expect(bundled('cache-proxy-tls')).toBe(sha256sum(big));
    const log = () => readFileSync(proxyLog, 'utf8');
    expect(log()).toContain(`CONNECT ${new URL(tlsUp.url).host}`);

    const viaPlain = await build(await manifest('proxied-plain', plainUp.url), 'cache-proxy-plain', { http_proxy: `127.0.0.1:${proxyPort}` });
    expect(viaPlain.code, viaPlain.stderr).toBe(0);
    expect(bundled('cache-proxy-plain')).toBe(sha256sum(big));
    expect(log()).toContain(`GET ${plainUp.url}/big.bin`);

    const before = log().length;
    const direct = await build(await manifest('not-proxied', tlsUp.url), 'cache-no-proxy', { NODE_EXTRA_CA_CERTS: ca.cert, HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: 'example.org, 127.0.0.1' });
    expect(direct.code, direct.stderr).toBe(0);
    expect(log().slice(before)).not.toContain('CONNECT');
  });

  it('a cache disk too small for the files fails before downloading, naming the folder and both figures', async () => {
    if (!isRoot()) throw new Error('this test mounts a small tmpfs and needs root');
    const cache = join(root, 'cache-full');
    mkdirSync(cache);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', cache]);
    try {
      const earlier = plainUp.requests.length;
      const r = await build(await manifest('full', plainUp.url), 'cache-full', {});
      expect(r.code).toBe(1);
      // The plan measured the files on the server (HEAD): the figure needed is their real sizes.
      const sizes = statSync(big).size + statSync(join(served, 'pod.yaml')).size;
      expect(r.stderr).toMatch(new RegExp(`cache-full: needs [^\\n]*\\(${sizes} bytes\\), [^\\n]* free`));
      expect(r.stderr).not.toContain('unexpected');
      expect(plainUp.requests.slice(earlier)).toEqual([]);
      expect(readdirSync(cache, { recursive: true }).filter((p) => String(p).endsWith('.partial'))).toEqual([]);
    } finally {
      execFileSync('umount', [cache]);
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true)).listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}
