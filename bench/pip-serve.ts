/**
 * Index pages per second: the mirror's /pypi/simple/ against `python3 -m http.server` on the same static tree
 * (the bundle's repos/pip). A bounded number of GETs from Node, keep-alive, a few concurrent, round-robin over
 * every project page. Prints both rates and the ratio (goal: ≥ 1×). Run: npx tsx bench/pip-serve.ts [requests]
 */
import { Limiter } from '../src/util/concurrency.js';
import http from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { collectPip } from '../src/pip/collect.js';
import { startMirror } from '../src/mirror/server.js';
import { BUNDLE_MOUNTS } from '../src/cli/mirror-mounts.js';
import { ContentStore } from '../src/store/content-store.js';
import { noProgress } from '../src/progress/events.js';
import type { Manifest } from '../src/manifest/types.js';
import { serveStatic, wheelFixture } from '../test/fixtures/wheels/fixture.js';
import { createHttpClient } from '../src/net/client.js';

const TOTAL = Number(process.argv[2] ?? 4000);
const CONCURRENCY = 4;

async function rate(base: string, pages: string[]): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  const get = (url: string) =>
    new Promise<void>((resolve, reject) => {
      http.get(url, { agent }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
  const t = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL) await get(`${base}${pages[next++ % pages.length]}`);
    }),
  );
  agent.destroy();
  return TOTAL / ((performance.now() - t) / 1000);
}

async function main() {
  const upstream = await serveStatic(wheelFixture());
  const dir = mkdtempSync(join(tmpdir(), 'ks-bench-serve-'));
  const manifest = {
    targets: [{ os: 'debian-12', arch: 'amd64', python: '3.11', distro: 'debian', codename: 'bookworm', glibc: '2.36', baseline: 'none' }],
    pip: { index: `${upstream.url}/simple/`, requirements: ['ansible-core', 'netaddr', 'Jinja2'], buildSdists: false },
  } as unknown as Manifest;
  const out = await collectPip({ manifest, store: new ContentStore(join(dir, 'store')), workDir: dir, onProgress: noProgress, requests: new Limiter(4), http: createHttpClient({ idleMs: 60_000, retry: { retries: 0 } }) });
  await upstream.close();
  const bundle = join(dir, 'bundle');
  for (const e of out.entries) {
    mkdirSync(dirname(join(bundle, e.path)), { recursive: true });
    if (e.data) writeFileSync(join(bundle, e.path), e.data);
    else linkSync(e.file!, join(bundle, e.path));
  }
  const projects = [...new Set(out.lock.map((l) => String(l.extra!.project)))];
  const pages = [...projects.map((p) => `${p}/`), ''];
  const mirror = await startMirror({ bundleDir: bundle, mounts: BUNDLE_MOUNTS, port: 0 });
  const peer = await serveStatic(join(bundle, 'repos', 'pip'));
  try {
    await rate(`${mirror.url}/pypi/simple/`, pages); // warm-up
    const ours = await rate(`${mirror.url}/pypi/simple/`, pages);
    const theirs = await rate(`${peer.url}/simple/`, pages);
    console.log(`${TOTAL} page requests, ${CONCURRENCY} concurrent, keep-alive, ${pages.length} distinct pages`);
    console.log(`ks-bundle mirror: ${ours.toFixed(0)} pages/s`);
    console.log(`python3 -m http.server: ${theirs.toFixed(0)} pages/s`);
    console.log(`ratio ks-bundle / http.server = ${(ours / theirs).toFixed(2)}x (goal >= 1x)`);
  } finally {
    await mirror.close();
    await peer.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
