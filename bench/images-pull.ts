/**
 * Build side: pull 6 images (≈1.1 GB unique, shared bases) from a local docker-registry into a bundle layout with
 * collectImages, against `skopeo copy --all` of each into one OCI layout (skopeo skips blobs the layout has).
 * Ours and skopeo alternate for several rounds, each into an empty cache or layout, and the median of the per-round
 * ratios is the result: either side's time varies by 1.5× from run to run here.
 * Goal: ≤ 0.5× skopeo's time.   Run: npx tsx bench/images-pull.ts [rounds]
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { collectImages } from '../src/images/collect.js';
import { imagesContext, layOut } from '../test/images/support.js';
import { mbps, prepare, run } from './images-common.js';
import { median } from './lib/measure.js';

const rounds = Number(process.argv[2] ?? 3);
const concurrency = Number(process.env.CONCURRENCY ?? 4);
const set = await prepare();
const timed = async (what: () => Promise<unknown>): Promise<number> => {
  await run('sync');
  const t0 = performance.now();
  await what();
  return performance.now() - t0;
};
/** CPU seconds (user + system) each side spent, all threads: steadier than wall time on a shared 2-core VM. */
const cpu = { ours: [] as number[], skopeo: [] as number[] };
let lastOut: Awaited<ReturnType<typeof collectImages>> | undefined;
const ours = async (round: number) => {
  const root = join(set.root, `ours-${round}`);
  const c0 = process.cpuUsage();
  const ms = await timed(async () => {
    lastOut = await collectImages(imagesContext({ cache: join(root, 'cache'), workDir: join(root, 'work'), images: set.refs, registries: { [set.registry.host]: { insecure: true } }, concurrency, arches: ['amd64'] }));
    layOut(lastOut, join(root, 'bundle'));
  });
  const c1 = process.cpuUsage(c0);
  cpu.ours.push((c1.user + c1.system) / 1e6);
  rmSync(root, { recursive: true, force: true });
  return ms;
};
const skopeo = async (round: number) => {
  const layout = join(set.root, `skopeo-${round}`);
  let spent = 0;
  const ms = await timed(async () => {
    for (const ref of set.refs) {
      const { stderr } = await run('/usr/bin/time', ['-f', '%U %S', 'skopeo', 'copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:${ref.split('/').pop()}`]);
      spent += stderr.trim().split('\n').pop()!.split(' ').reduce((n, x) => n + Number(x), 0);
    }
  });
  cpu.skopeo.push(spent);
  rmSync(layout, { recursive: true, force: true });
  return ms;
};
try {
  console.log(`6 images, ${(set.uniqueBytes / 2 ** 20).toFixed(0)} MB unique, registry ${set.registry.host}, ${rounds} rounds, concurrency ${concurrency}`);
  // Both sides read the registry's blobs from a warm page cache; otherwise whoever goes first pays for the disk.
  await run('sh', ['-c', `find '${join(set.root, 'registry')}' -type f -exec cat {} + > /dev/null`]);
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate who goes first, so neither always runs on the heels of the other's writeback.
    let a: number;
    let b: number;
    if (r % 2 === 0) {
      a = await ours(r);
      b = await skopeo(r);
    } else {
      b = await skopeo(r);
      a = await ours(r);
    }
    ratios.push(a / b);
    console.log(`  round ${r + 1}: ks-bundle ${(a / 1000).toFixed(2)} s (${mbps(set.uniqueBytes, a)}) vs skopeo copy --all ×6 ${(b / 1000).toFixed(2)} s (${mbps(set.uniqueBytes, b)}) → ${(a / b).toFixed(2)}×`);
  }
  // The ceiling: the unique blobs fetched by parallel curl processes straight to files (no hashing, no retries).
  const blobs = lastOut!.entries.filter((e) => e.file && e.size > 1 << 20).map((e) => e.path.split('/').pop()!);
  const curl = await timed(() =>
    Promise.all(
      blobs.map((hex, i) => {
        const repo = lastOut!.lock.find((l) => l.name === `sha256:${hex}`)!.source.split('/').slice(1).join('/');
        return run('curl', ['-sf', '-o', join(set.root, `curl-${i}`), `http://${set.registry.host}/v2/${repo}/blobs/sha256:${hex}`]);
      }),
    ),
  );
  console.log(`ceiling, curl ×${blobs.length} in parallel to files: ${(curl / 1000).toFixed(2)} s (${mbps(set.uniqueBytes, curl)})`);
  console.log(`CPU seconds, median: ks-bundle ${median(cpu.ours).toFixed(2)} s, skopeo ${median(cpu.skopeo).toFixed(2)} s`);
  console.log(`ratio ks-bundle/skopeo: median ${median(ratios).toFixed(2)}× (goal ≤ 0.5×)`);
} finally {
  await set.cleanup();
}
