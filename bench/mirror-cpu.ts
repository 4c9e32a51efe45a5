/**
 * What serving a GB costs the mirror: its CPU-seconds per GB of blobs, against docker-registry serving the same
 * blobs, both in processes of their own. On a 2-core machine the clients' CPU limits the throughput (images-serve.ts),
 * so what matters is the CPU a server leaves them, and that is measured here apart from the clients' own.
 * The set of images-serve.ts (6 images, ≈1.1 GB of unique layers); each client fetches every layer once per round.
 * Clients: curl (default; one process per client, fetching the layers in turn over one connection) or, with
 * --skopeo, `skopeo copy --all` of the 6 images into OCI layouts on tmpfs. The two servers take turns, reversed every
 * other round; the medians of the rounds are the result. Then the CPU each server spends on a manifest request: 2,000 of
 * them one at a time over keep-alive, after 500 to warm up.
 *   Run: npx tsx bench/mirror-cpu.ts [rounds] [clients] [--skopeo]
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bundleOf, cpuOf, peakRssMB, prepare, run, startBenchMirror } from './images-common.js';
import { median } from './lib/measure.js';

const args = process.argv.slice(2).filter((a) => a !== '--skopeo');
const skopeo = process.argv.includes('--skopeo');
const rounds = Number(args[0] ?? 5);
const clients = Number(args[1] ?? 3);
const MANIFESTS = 2000;
const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';
const dest = join('/dev/shm', `ksb-bench-cpu-${process.pid}`);

interface Server {
  name: string;
  host: string;
  pid: number;
  cpuPerGB: number[];
  ms: number[];
  clientCpu: number[];
}

/** One round against one server: every client pulls every layer once. */
async function pull(s: Server, repos: string[], layers: string[], bytes: number): Promise<string> {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest);
  const cpu0 = cpuOf(s.pid);
  const t0 = performance.now();
  let clientCpu = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      const commands = skopeo
        ? repos.map((repo) => ['skopeo', 'copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${s.host}/${repo}:1`, `oci:${join(dest, `c${k}`)}:${repo.replace(/\//g, '-')}`])
        : [['curl', '-sSf', ...layers.flatMap((path) => ['-o', '/dev/null', `http://${s.host}${path}`])]];
      for (const cmd of commands) {
        const { stderr } = await run('/usr/bin/time', ['-f', '%U %S', ...cmd], { maxBuffer: 1 << 20 });
        const [u, sys] = stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
        clientCpu += u + sys;
      }
    }),
  );
  const ms = performance.now() - t0;
  rmSync(dest, { recursive: true, force: true });
  const gb = (clients * bytes) / 1e9;
  s.cpuPerGB.push((cpuOf(s.pid) - cpu0) / gb);
  s.ms.push(ms);
  s.clientCpu.push(clientCpu);
  return `${s.name} ${s.cpuPerGB.at(-1)!.toFixed(3)} CPU-s/GB, ${(gb * 1000 / (ms / 1000)).toFixed(0)} MB/s (clients' CPU ${clientCpu.toFixed(1)} s)`;
}

const set = await prepare();
try {
  const { bundleDir, repos } = await bundleOf(set);
  // Every layer once, by the first repository that names it.
  const layers: string[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  for (const repo of repos) {
    const res = await fetch(`http://${set.registry.host}/v2/${repo}/manifests/1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    for (const l of ((await res.json()) as { layers: Array<{ digest: string; size: number }> }).layers) {
      if (seen.has(l.digest)) continue;
      seen.add(l.digest);
      bytes += l.size;
      layers.push(`/v2/${repo}/blobs/${l.digest}`);
    }
  }
  const { child, host: mirrorHost } = await startBenchMirror(bundleDir);
  const fresh = (name: string, host: string, pid: number): Server => ({ name, host, pid, cpuPerGB: [], ms: [], clientCpu: [] });
  const registry = fresh('docker-registry', set.registry.host, set.registry.proc.pid!);
  const mirror = fresh('mirror', mirrorHost, child.pid!);
  try {
    for (let r = 0; r < rounds; r++) {
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      const order = r % 2 === 0 ? [registry, mirror] : [mirror, registry];
      const lines: string[] = [];
      for (const s of order) lines.push(await pull(s, repos, layers, bytes));
      console.log(`  round ${r + 1} (load ${load}): ${lines.join(' | ')}`);
    }
    const manifestCpu = async (s: Server) => {
      const get = async (i: number) => (await fetch(`http://${s.host}/v2/${repos[i % repos.length]}/manifests/1`, { headers: { accept: ACCEPT } })).arrayBuffer();
      for (let i = 0; i < 500; i++) await get(i);
      const cpu0 = cpuOf(s.pid);
      for (let i = 0; i < MANIFESTS; i++) await get(i);
      return ((cpuOf(s.pid) - cpu0) / MANIFESTS) * 1000;
    };
    const perManifest = [await manifestCpu(registry), await manifestCpu(mirror)];
    const hwm = peakRssMB(child.pid!);
    console.log(`${clients} ${skopeo ? 'skopeo' : 'curl'} clients × ${(bytes / 1e6).toFixed(0)} MB of layers per server per round, ${rounds} rounds`);
    for (const s of [registry, mirror]) {
      const range = `${Math.min(...s.cpuPerGB).toFixed(3)}–${Math.max(...s.cpuPerGB).toFixed(3)}`;
      console.log(`${s.name}: median ${median(s.cpuPerGB).toFixed(3)} CPU-s per GB served (rounds ${range}), clients' CPU median ${median(s.clientCpu).toFixed(1)} s`);
    }
    console.log(`CPU per manifest request: docker-registry ${perManifest[0]!.toFixed(2)} ms, mirror ${perManifest[1]!.toFixed(2)} ms`);
    console.log(`throughput ratio mirror/registry: median ${median(registry.ms.map((ms, i) => ms / mirror.ms[i]!)).toFixed(2)}×`);
    console.log(`mirror peak RSS (VmHWM): ${hwm.toFixed(0)} MB`);
  } finally {
    child.kill('SIGTERM');
  }
} finally {
  await set.cleanup();
}
