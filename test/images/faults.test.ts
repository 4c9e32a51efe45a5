/**
 * Faults between us and a real docker-registry: a proxy written here answers the first manifest request and the
 * first two requests for the biggest layer with 429 + Retry-After, then cuts the connection halfway through that
 * layer once. The bundle must still come out right, the cut blob resumed with Range.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectImages } from '../../src/images/collect.js';
import { requireTools } from '../support/tools.js';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { imagesContext, sha256Hex, startRegistry, upstreamDigest, type Registry } from './support.js';
import { testHttp } from '../support/http.js';

let tmp: string;
let registry: Registry;
let proxy: Server;
let proxyHost: string;
const seen: Array<{ path: string; range?: string; status: number }> = [];
let victim = '';

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-faults-'));
  registry = await startRegistry(join(tmp, 'registry'));
  const layout = buildFixtureImages(join(tmp, 'fixture'));
  await pushFixture(layout, 'app', `${registry.host}/library/app:1.0`);
  // The biggest layer of app (the busybox layer) is the one we will cut.
  const manifest = JSON.parse(await (await fetch(`http://${registry.host}/v2/library/app/manifests/1.0`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).text());
  victim = [...manifest.layers].sort((a: any, b: any) => b.size - a.size)[0].digest;
  let manifest429 = 0;
  let blob429 = 0;
  let cut = 0;
  proxy = createServer((req, res) => {
    const path = req.url ?? '/';
    const log = (status: number) => seen.push({ path, range: req.headers.range, status });
    if (path.includes('/manifests/') && manifest429++ < 1) {
      log(429);
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      return;
    }
    const isVictim = path.endsWith(`/blobs/${victim}`) && req.method === 'GET';
    if (isVictim && blob429++ < 2) {
      log(429);
      res.writeHead(429, { 'retry-after': '1' });
      res.end();
      return;
    }
    const up = httpRequest({ host: '127.0.0.1', port: registry.port, path, method: req.method, headers: req.headers }, (upRes) => {
      log(upRes.statusCode ?? 0);
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (isVictim && upRes.statusCode === 200 && cut++ < 1) {
        // Send about half of the body, then drop the connection.
        const half = Number(upRes.headers['content-length']) / 2;
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (sent >= half) return;
          res.write(chunk.subarray(0, Math.max(0, Math.min(chunk.length, half - sent))));
          sent += chunk.length;
          if (sent >= half) setTimeout(() => { res.socket?.destroy(); upRes.destroy(); }, 50);
        });
        return;
      }
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((r) => { proxy?.close(() => r()); proxy?.closeAllConnections(); });
  await registry?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

it('429 twice and a connection cut mid-blob still give a correct bundle', async () => {
  const ctx = imagesContext({
    cache: join(tmp, 'cache'),
    workDir: join(tmp, 'work'),
    images: [`${proxyHost}/library/app:1.0`],
    registries: { [proxyHost]: { insecure: true } },
    concurrency: 2,
  });
  const out = await collectImages(ctx);
  expect(out.lock.find((e) => e.kind === 'image')!.extra!.digest).toBe(await upstreamDigest(`${registry.host}/library/app:1.0`));
  for (const e of out.entries.filter((x) => x.file)) expect(sha256Hex(readFileSync(e.file!)), e.path).toBe(e.sha256);
  const victimReqs = seen.filter((s) => s.path.endsWith(victim));
  expect(victimReqs.filter((s) => s.status === 429).length).toBe(2);
  // After the cut the download resumed from where it was, not from zero.
  const resumed = victimReqs.find((s) => s.range);
  expect(resumed?.range).toMatch(/^bytes=[1-9]\d*-$/);
  expect(resumed?.status).toBe(206);
  expect(seen.some((s) => s.path.includes('/manifests/') && s.status === 429)).toBe(true);
});

it('an upstream that keeps answering 429 fails saying which image and which registry', async () => {
  const busy = createServer((_req, res) => {
    res.writeHead(429, { 'retry-after': '0' });
    res.end();
  });
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const host = `127.0.0.1:${(busy.address() as AddressInfo).port}`;
  try {
    const ctx = imagesContext({ cache: join(tmp, 'cache-busy'), workDir: join(tmp, 'w2'), images: [`${host}/library/app:1.0`], registries: { [host]: { insecure: true } } });
    ctx.http = testHttp({ retries: 1, minTimeoutMs: 10, maxTimeoutMs: 20 });
    await expect(collectImages(ctx)).rejects.toThrow(new RegExp(`image ${host}/library/app:1\\.0 \\(registry ${host}\\).*429`));
  } finally {
    await new Promise<void>((r) => { busy.close(() => r()); busy.closeAllConnections(); });
  }
});
