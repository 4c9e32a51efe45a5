/**
 * Shared set-up of the image benchmarks: 6 images, ≈1.1 GB of unique blobs with shared base layers (two bases,
 * each under three images), written directly as an OCI layout (random, incompressible layer bytes; registries and
 * skopeo move layers as opaque blobs), pushed with skopeo into a docker-registry on loopback.
 * Data lives under /var/tmp and is deleted by `cleanup()`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { collectImages } from '../src/images/collect.js';
import { imagesContext, layOut, startRegistry, type Registry } from '../test/images/support.js';

export const run = promisify(execFile);
const MB = 1 << 20;

export async function writeRandomBlob(dir: string, size: number): Promise<{ digest: string; size: number }> {
  const tmp = join(dir, 'tmp-' + Math.random().toString(36).slice(2));
  const out = createWriteStream(tmp);
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(4 * MB);
  for (let left = size; left > 0; ) {
    const n = Math.min(left, chunk.length);
    const buf = Buffer.from(randomFillSync(chunk, 0, n).subarray(0, n));
    hash.update(buf);
    if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
    left -= n;
  }
  await new Promise<void>((r, j) => out.end((e: unknown) => (e ? j(e) : r())));
  const hex = hash.digest('hex');
  renameSync(tmp, join(dir, hex));
  return { digest: `sha256:${hex}`, size };
}

export function writeJsonBlob(dir: string, doc: unknown): { digest: string; size: number } {
  const bytes = Buffer.from(JSON.stringify(doc));
  const hex = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(dir, hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

export interface BenchSet {
  root: string;
  registry: Registry;
  refs: string[];
  uniqueBytes: number;
  cleanup(): Promise<void>;
}

export async function prepare(): Promise<BenchSet> {
  const root = mkdtempSync('/var/tmp/ksb-bench-images-');
  const layout = join(root, 'layout');
  const blobs = join(layout, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
  const bases = [await writeRandomBlob(blobs, 300 * MB), await writeRandomBlob(blobs, 250 * MB)];
  let uniqueBytes = bases[0]!.size + bases[1]!.size;
  const index: any[] = [];
  const refs: string[] = [];
  for (let i = 0; i < 6; i++) {
    const own = await writeRandomBlob(blobs, 90 * MB);
    uniqueBytes += own.size;
    const base = bases[i % 2]!;
    const config = writeJsonBlob(blobs, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [base.digest, own.digest] }, config: {}, n: i });
    const manifest = writeJsonBlob(blobs, {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: LAYER, ...base }, { mediaType: LAYER, ...own }],
    });
    index.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': `img${i}` } });
  }
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: index }));
  const registry = await startRegistry(join(root, 'registry'));
  for (let i = 0; i < 6; i++) {
    await run('skopeo', ['copy', '--all', '--quiet', '--dest-tls-verify=false', `oci:${layout}:img${i}`, `docker://${registry.host}/bench/img${i}:1`]);
    refs.push(`${registry.host}/bench/img${i}:1`);
  }
  rmSync(layout, { recursive: true, force: true });
  return {
    root,
    registry,
    refs,
    uniqueBytes,
    cleanup: async () => {
      await registry.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function mbps(bytes: number, ms: number): string {
  return ((bytes / MB) / (ms / 1000)).toFixed(0) + ' MB/s';
}

/**
 * The set's images collected, as `docker.io/bench/imgN:1`, into a bundle's layout under `<root>/bundle`; `repos` are
 * the names (`bench/img0`) both servers answer to (the mirror takes a name without a registry as docker.io's).
 */
export async function bundleOf(set: BenchSet): Promise<{ bundleDir: string; repos: string[] }> {
  const bundleDir = join(set.root, 'bundle');
  const repos = set.refs.map((r) => r.split('/').slice(1).join('/').replace(/:1$/, ''));
  const out = await collectImages(
    imagesContext({
      cache: join(set.root, 'cache'),
      workDir: join(set.root, 'work'),
      images: repos.map((r) => `docker.io/${r}:1`),
      registries: { 'docker.io': { endpoint: set.registry.host, insecure: true } },
      arches: ['amd64'],
    }),
  );
  layOut(out, bundleDir);
  return { bundleDir, repos };
}

/** The mirror serving `bundleDir` alone in its own process (so its CPU and peak RSS can be read from /proc). */
export async function startBenchMirror(bundleDir: string): Promise<{ child: ChildProcess; host: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'images-mirror-child.ts'), bundleDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d) => resolve(String(d).trim()));
    child.once('exit', (code) => reject(new Error(`the mirror exited (${code}) before it listened`)));
  });
  return { child, host: new URL(url).host };
}

/** CPU-seconds a process has used (utime + stime from /proc). */
export function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak RSS of a process (VmHWM), in MB of 10^6 bytes. */
export function peakRssMB(pid: number): number {
  return (Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024) / 1e6;
}
