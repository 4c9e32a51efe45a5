/**
 * Serving: three clients in parallel pull the same 6 images (≈1.1 GB unique each) from our mirror (its own process,
 * serving the bundle layout) and from docker-registry serving the same content. Throughput ratio (goal ≥ 1.0×),
 * p99 latency of manifest requests under that load, and the mirror's peak RSS (VmHWM; goal < 150 MB).
 * Clients are curl processes (one per blob, bodies to /dev/null), manifests timed from this process. The two servers
 * take turns for several rounds, and the median of the per-round ratios is the result.
 *   Run: npx tsx bench/images-serve.ts [rounds]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectImages } from '../src/images/collect.js';
import { imagesContext, layOut } from '../test/images/support.js';
import { mbps, prepare, run } from './images-common.js';
import { median } from './lib/measure.js';

const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

interface Result { bytes: number; ms: number; latencies: number[] }

async function pullAll(base: string, repos: string[]): Promise<Result> {
  const latencies: number[] = [];
  let bytes = 0;
  const client = async () => {
    for (const repo of repos) {
      const t = performance.now();
      const res = await fetch(`${base}/v2/${repo}/manifests/1`, { headers: { accept: ACCEPT } });
      const text = await res.text();
      const m = JSON.parse(text);
      if (!m.layers) throw new Error(`${base}/v2/${repo}/manifests/1: HTTP ${res.status} ${text.slice(0, 300)}`);
      latencies.push(performance.now() - t);
      for (const b of [m.config, ...m.layers]) {
        const { stdout } = await run('curl', ['-sf', '-o', '/dev/null', '-w', '%{size_download}', `${base}/v2/${repo}/blobs/${b.digest}`]);
        bytes += Number(stdout);
      }
    }
  };
  // A fourth loop keeps asking for manifests while the blobs stream: latency under load.
  let loading = true;
  const prober = async () => {
    while (loading) {
      for (const repo of repos) {
        const t = performance.now();
        try {
          await (await fetch(`${base}/v2/${repo}/manifests/1`, { headers: { accept: ACCEPT } })).arrayBuffer();
          latencies.push(performance.now() - t);
        } catch (err) {
          // A keep-alive socket the server closed just as we reused it: count it, do not time it.
          failures.push(`${base}: ${(err as Error).cause ?? err}`);
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const t0 = performance.now();
  const probe = prober();
  await Promise.all([client(), client(), client()]);
  const ms = performance.now() - t0;
  loading = false;
  await probe;
  return { bytes, ms, latencies };
}

const failures: string[] = [];

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]!;
}

const set = await prepare();
try {
  const bundleDir = join(set.root, 'bundle');
  const out = await collectImages(imagesContext({ cache: join(set.root, 'cache'), workDir: join(set.root, 'work'), images: set.refs, registries: { [set.registry.host]: { insecure: true } }, arches: ['amd64'] }));
  layOut(out, bundleDir);
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'images-mirror-child.ts'), bundleDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((r) => child.stdout!.once('data', (d) => r(String(d).trim())));
  const repos = set.refs.map((r) => r.split('/').slice(1).join('/').replace(/:1$/, ''));
  const rounds = Number(process.argv[2] ?? 3);
  try {
    const regRuns: Result[] = [];
    const ourRuns: Result[] = [];
    // The bundle names them 127.0.0.1:PORT/bench/imgN: the mirror is asked with the registry-prefixed path.
    const registry = () => pullAll(`http://${set.registry.host}`, repos);
    const mirror = () => pullAll(url, repos.map((r) => `${set.registry.host}/${r}`));
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first, so neither always serves from a page cache the other warmed.
      if (r % 2 === 0) {
        regRuns.push(await registry());
        ourRuns.push(await mirror());
      } else {
        ourRuns.push(await mirror());
        regRuns.push(await registry());
      }
      const [reg, ours] = [regRuns[r]!, ourRuns[r]!];
      console.log(`  round ${r + 1}: docker-registry ${mbps(reg.bytes, reg.ms)}, mirror ${mbps(ours.bytes, ours.ms)} → ${(reg.ms / ours.ms).toFixed(2)}×`);
    }
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1];
    const all = (runs: Result[]) => runs.flatMap((x) => x.latencies);
    console.log(`3 clients × 6 images, ${(regRuns[0]!.bytes / 2 ** 20).toFixed(0)} MB moved per server per round, ${rounds} rounds`);
    console.log(`docker-registry: manifest p99 ${p99(all(regRuns)).toFixed(1)} ms (${all(regRuns).length} requests)`);
    console.log(`ks-bundle mirror: manifest p99 ${p99(all(ourRuns)).toFixed(1)} ms (${all(ourRuns).length} requests)`);
    console.log(`throughput ratio mirror/registry: median ${median(regRuns.map((reg, i) => reg.ms / ourRuns[i]!.ms)).toFixed(2)}× (goal ≥ 1.0×)`);
    if (failures.length) console.log(`manifest probe failures (connection reuse): ${failures.length}: ${[...new Set(failures)].slice(0, 3).join('; ')}`);
    console.log(`mirror peak RSS (VmHWM): ${(Number(hwm) / 1024).toFixed(0)} MB (goal < 150 MB)`);
  } finally {
    child.kill('SIGTERM');
  }
} finally {
  await set.cleanup();
}
