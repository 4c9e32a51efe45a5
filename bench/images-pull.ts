/**
 * Build side: pull 6 images (≈1.1 GB unique, shared bases) from a local docker-registry into a bundle layout with
 * collectImages, against `skopeo copy --all` of each into one OCI layout (skopeo skips blobs the layout has).
 * Goal: ≤ 0.5× skopeo's time.   Run: npx tsx bench/images-pull.ts
 */
import { join } from 'node:path';
import { collectImages } from '../src/images/collect.js';
import { imagesContext, layOut } from '../test/images/support.js';
import { mbps, prepare, run } from './images-common.js';

const set = await prepare();
try {
  console.log(`6 images, ${(set.uniqueBytes / 2 ** 20).toFixed(0)} MB unique, registry ${set.registry.host}`);
  const concurrency = Number(process.env.CONCURRENCY ?? 4);
  const t0 = performance.now();
  const out = await collectImages(imagesContext({ cache: join(set.root, 'cache'), workDir: join(set.root, 'work'), images: set.refs, registries: { [set.registry.host]: { insecure: true } }, concurrency, arches: ['amd64'] }));
  layOut(out, join(set.root, 'bundle'));
  const ours = performance.now() - t0;

  const t1 = performance.now();
  for (const ref of set.refs) {
    await run('skopeo', ['copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(set.root, 'skopeo')}:${ref.split('/').pop()}`]);
  }
  const skopeo = performance.now() - t1;
  // The ceiling: the unique layers fetched by parallel curl processes straight to files (no hashing, no retries).
  const blobs = out.entries.filter((e) => e.file && e.size > 1 << 20).map((e) => e.path.split('/').pop()!);
  const t2 = performance.now();
  await Promise.all(blobs.map((hex, i) => {
    const repo = out.lock.find((l) => l.name === `sha256:${hex}`)!.source.split('/').slice(1).join('/');
    return run('curl', ['-sf', '-o', join(set.root, `curl-${i}`), `http://${set.registry.host}/v2/${repo}/blobs/sha256:${hex}`]);
  }));
  const curl = performance.now() - t2;
  console.log(`ceiling, curl ×${blobs.length} in parallel to files: ${(curl / 1000).toFixed(2)} s (${mbps(set.uniqueBytes, curl)})`);
  console.log(`ks-bundle collectImages (concurrency ${concurrency}): ${(ours / 1000).toFixed(2)} s (${mbps(set.uniqueBytes, ours)})`);
  console.log(`skopeo copy --all ×6 into one layout:   ${(skopeo / 1000).toFixed(2)} s (${mbps(set.uniqueBytes, skopeo)})`);
  console.log(`ratio ours/skopeo: ${(ours / skopeo).toFixed(2)}× (goal ≤ 0.5×)`);
} finally {
  await set.cleanup();
}
