/**
 * Resolution + download of ansible-core, netaddr and Jinja2 (cold cache) against the fixture index on loopback,
 * against `pip download` of the same requirements from the same index. Prints the median of each and the ratio
 * (goal: ≤ 1×). Run: npx tsx bench/pip-resolve.ts [runs]
 */
import { Limiter } from '../src/util/concurrency.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { collectPip } from '../src/pip/collect.js';
import { ContentStore } from '../src/store/content-store.js';
import { noProgress } from '../src/progress/events.js';
import type { Manifest } from '../src/manifest/types.js';
import { isolatedPipEnv, serveStatic, wheelFixture } from '../test/fixtures/wheels/fixture.js';
import { median } from './lib/measure.js';
import { createHttpClient } from '../src/net/client.js';

const REQS = ['ansible-core', 'netaddr', 'Jinja2'];
const runs = Number(process.argv[2] ?? 5);


async function main() {
  const upstream = await serveStatic(wheelFixture());
  const index = `${upstream.url}/simple/`;
  const ours: number[] = [];
  const pips: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'ks-bench-pip-'));
      const manifest = {
        targets: [{ os: 'debian-12', arch: 'amd64', python: '3.11', distro: 'debian', codename: 'bookworm', glibc: '2.36', baseline: 'none' }],
        pip: { index, requirements: REQS, buildSdists: false },
      } as unknown as Manifest;
      let t = performance.now();
      const out = await collectPip({ manifest, store: new ContentStore(join(dir, 'store')), workDir: dir, onProgress: noProgress, requests: new Limiter(4), http: createHttpClient({ idleMs: 60_000, retry: { retries: 0 } }) });
      ours.push(performance.now() - t);
      t = performance.now();
      await promisify(execFile)('python3', ['-m', 'pip', 'download', '--quiet', '--isolated', '--index-url', index, '--only-binary=:all:', '--python-version', '3.11', '--dest', join(dir, 'pip'), ...REQS], { env: isolatedPipEnv() });
      pips.push(performance.now() - t);
      if (i === 0) console.log(`${out.lock.length} wheels, ${(out.lock.reduce((n, l) => n + l.size, 0) / 1e6).toFixed(1)} MB`);
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await upstream.close();
  }
  const a = median(ours);
  const b = median(pips);
  console.log(`ks-bundle resolve+download: median ${a.toFixed(0)} ms over ${runs} runs (${ours.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`pip download:               median ${b.toFixed(0)} ms over ${runs} runs (${pips.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`ratio ks-bundle / pip = ${(a / b).toFixed(2)}x (goal <= 1x)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
