/**
 * Serving: three `skopeo copy --all` clients in parallel pull the same 6 images (≈1.1 GB unique each) from our mirror
 * (its own process, serving the bundle's layout) and from docker-registry serving the same content, each client into
 * an OCI layout of its own on tmpfs (so the page cache of the disk is not part of the figure). Blob throughput ratio
 * (goal ≥ 1.1×), p99 latency of manifest requests under that load (one every 8 ms, the same rate for both servers),
 * and the mirror's peak RSS (VmHWM; goal < 150 MB).
 * The images are docker.io/bench/imgN:1 in the bundle, pulled at build time from the registry as their endpoint, so
 * skopeo names them the same way on both servers (the mirror takes a name without a registry as docker.io's).
 * The two servers take turns for several rounds, reversed every other round; the median of the per-round ratios is
 * the result. On few cores the clients' CPU bounds the throughput; the bench prints that ceiling too.
 *   Run: npx tsx bench/images-serve.ts [rounds]
 */
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { bundleOf, cpuOf, mbps, peakRssMB, prepare, run, startBenchMirror } from './images-common.js';
import { median } from './lib/measure.js';

const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
const CLIENTS = 3;
const SHM = '/dev/shm';
/** One manifest request this often (ms) during each turn, answered or not. */
const PROBE_EVERY_MS = 8;

interface Result {
  ms: number;
  /** CPU-seconds of the skopeo clients, and of the server. */
  cpu: number;
  server: number;
  latencies: number[];
}

const failures: string[] = [];

/** Three clients, each pulling every image in turn with skopeo into its own layout; a fourth loop times manifests. */
async function pullAll(host: string, repos: string[], serverPid: number): Promise<Result> {
  const latencies: number[] = [];
  const dest = join(SHM, `ksb-bench-serve-${process.pid}`);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest);
  let cpu = 0;
  const client = async (k: number) => {
    for (const repo of repos) {
      const { stderr } = await run('/usr/bin/time', ['-f', '%U %S', 'skopeo', 'copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${host}/${repo}:1`, `oci:${join(dest, `client${k}`)}:${repo.replace(/\//g, '-')}`]);
      const [u, s] = stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
      cpu += u + s;
    }
  };
  let loading = true;
  // Open loop, at a fixed rate whatever the answers' speed: the probe's own CPU (taken from the clients' share on a
  // 2-core machine) is then the same per second against either server. A loop that waited for each answer asked the
  // server that answered faster more often, and so took more CPU from that server's clients.
  const prober = async () => {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; loading; i++) {
      const repo = repos[i % repos.length]!;
      const t = performance.now();
      const asked = fetch(`http://${host}/v2/${repo}/manifests/1`, { headers: { accept: ACCEPT } })
        .then((r) => r.arrayBuffer())
        .then(
          () => void latencies.push(performance.now() - t),
          // A keep-alive socket the server closed just as we reused it: count it, do not time it.
          (err: Error) => void failures.push(`${host}: ${err.cause ?? err}`),
        );
      inFlight.add(asked);
      void asked.finally(() => inFlight.delete(asked));
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
    await Promise.all(inFlight);
  };
  const t0 = performance.now();
  const server0 = cpuOf(serverPid);
  const probe = prober();
  try {
    await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
  } finally {
    loading = false;
    await probe;
    rmSync(dest, { recursive: true, force: true });
  }
  return { ms: performance.now() - t0, cpu, server: cpuOf(serverPid) - server0, latencies };
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]!;
}

const set = await prepare();
try {
  const { bundleDir, repos } = await bundleOf(set);
  const { child, host: mirrorHost } = await startBenchMirror(bundleDir);
  const rounds = Number(process.argv[2] ?? 3);
  const perClient = set.uniqueBytes;
  try {
    const regRuns: Result[] = [];
    const ourRuns: Result[] = [];
    const registry = () => pullAll(set.registry.host, repos, set.registry.proc.pid!);
    const mirror = () => pullAll(mirrorHost, repos, child.pid!);
    for (let r = 0; r < rounds; r++) {
      const { stdout: load } = await run('cat', ['/proc/loadavg']);
      // Alternate who goes first, so neither always serves from a page cache the other warmed.
      if (r % 2 === 0) {
        regRuns.push(await registry());
        ourRuns.push(await mirror());
      } else {
        ourRuns.push(await mirror());
        regRuns.push(await registry());
      }
      const [reg, ours] = [regRuns[r]!, ourRuns[r]!];
      console.log(
        `  round ${r + 1} (load ${load.split(' ')[0]}): docker-registry ${mbps(CLIENTS * perClient, reg.ms)} (its ${reg.server.toFixed(1)} CPU-s, skopeo's ${reg.cpu.toFixed(1)}), ` +
          `mirror ${mbps(CLIENTS * perClient, ours.ms)} (its ${ours.server.toFixed(1)} CPU-s, skopeo's ${ours.cpu.toFixed(1)}) → ${(reg.ms / ours.ms).toFixed(2)}×`,
      );
    }
    const hwm = peakRssMB(child.pid!);
    const all = (runs: Result[]) => runs.flatMap((x) => x.latencies);
    console.log(`${CLIENTS} skopeo clients × 6 images, ${((CLIENTS * perClient) / 1e6).toFixed(0)} MB of blobs per server per round, ${rounds} rounds`);
    console.log(`docker-registry: manifest p99 ${p99(all(regRuns)).toFixed(1)} ms (${all(regRuns).length} requests)`);
    console.log(`ks-bundle mirror: manifest p99 ${p99(all(ourRuns)).toFixed(1)} ms (${all(ourRuns).length} requests)`);
    console.log(`throughput ratio mirror/registry: median ${median(regRuns.map((reg, i) => reg.ms / ourRuns[i]!.ms)).toFixed(2)}× (goal ≥ 1.1×)`);
    // With every core busy, a round lasts about as long as all its CPU-seconds take: a server that cost nothing would
    // leave the clients' own. So (clients' + registry's) / clients' CPU bounds what any server can gain over it here.
    const ceiling = median(regRuns.map((reg) => (reg.cpu + reg.server) / reg.cpu));
    console.log(`ceiling on ${availableParallelism()} cores, for a server that took no CPU at all: about ${ceiling.toFixed(2)}× (median of (clients' + registry's) / clients' CPU-s)`);
    if (failures.length) console.log(`manifest probe failures (connection reuse): ${failures.length}: ${[...new Set(failures)].slice(0, 3).join('; ')}`);
    console.log(`mirror peak RSS (VmHWM): ${hwm.toFixed(0)} MB (goal < 150 MB)`);
  } finally {
    child.kill('SIGTERM');
  }
} finally {
  await set.cleanup();
}
