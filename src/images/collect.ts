import type { BundleEntry } from '../bundle/entry.js';
import type { BuildContext, Collector, KindFigures, KindOutput, Unavailable } from '../collector/context.js';
import { collectWith } from '../collector/run.js';
import type { LockEntry } from '../lock/entry.js';
import { HttpError, InputError, KsBundleError } from '../errors.js';
import type { ContentStore } from '../store/content-store.js';
import { pullScope, type RegistryClient } from './client.js';
import { LAYOUT_DIR, OCI_LAYOUT_BYTES, blobPath, layoutIndex } from './layout.js';
import { hexOf, type Descriptor } from './media.js';
import { mapLimit } from '../util/concurrency.js';
import { formatReference, parseReference, repoName } from './reference.js';
import type { ResolvedImage } from './resolve.js';
import { registryClients, resolveFromSources, type ClientFor } from './sources.js';

/**
 * spec.images, first phase: every reference resolved to its manifests (small; fetched and stored), from its
 * original name or the first alternate that has it, with no blob downloaded. The figures count every blob of the
 * images once (manifests, configs, layers). `fetch` then downloads each blob once, from the source that resolved
 * its image, straight into the content store, and lays out one OCI image layout under repos/images/ that keeps
 * the original names.
 */
export const planImages: Collector = async (ctx) => {
  const { manifest, onProgress } = ctx;
  const wanted = uniq(manifest.targets.map((t) => t.arch)).map((arch) => ({ os: 'linux', arch }));
  const clientFor = registryClients(ctx);
  const lockedDigests = lockedImageDigests(ctx.locked);
  // Validation has parsed every reference and warned about spellings of one image; each is resolved once.
  const refs = [...new Map((manifest.images ?? []).map((s) => parseReference(s)).map((r) => [formatReference(r), r])).values()];
  if (refs.length) onProgress({ type: 'phase', phase: 'images', message: `resolving ${refs.length} image references` });

  const results = await mapLimit(refs, ctx.requests.limit, async (ref) => {
    const name = formatReference(ref);
    let lockedDigest: string | undefined;
    if (lockedDigests) {
      lockedDigest = lockedDigests.get(name);
      if (!lockedDigest) throw new InputError(`--locked: image ${name} is not in the lock`, { hint: 'Build without --locked to update the lock.' });
    }
    const got = await resolveFromSources(ref, { ctx, clientFor, alternates: manifest.alternates ?? [], wanted, lockedDigest }).catch((err) => {
      throw naming(err, `image ${name} (registry ${ref.registry})`);
    });
    if (got.image && got.tried.length) {
      // Said as it happens: the build goes on, and the lock's `source` records where the image came from.
      const why = got.tried.map((t) => `${t.source}: ${t.error}`).join('; ');
      onProgress({ type: 'log', level: 'info', message: `image ${name} comes from ${got.image.source} (${why})` });
    }
    return { name, ...got };
  });
  if (lockedDigests) {
    const extra = [...lockedDigests.keys()].filter((n) => !results.some((r) => r.name === n));
    if (extra.length) throw new InputError(`--locked: the lock has images the manifest no longer names: ${extra.join(', ')}`);
  }
  const images = results.flatMap((r) => (r.image ? [r.image] : []));
  const unavailable: Unavailable[] = results.filter((r) => !r.image).map((r) => ({ kind: 'images', name: r.name, tried: r.tried }));
  return {
    kinds: { images: await imageFigures(images, ctx.store) },
    // The layout's index.json and oci-layout, exactly as fetch writes them.
    generatedBytes: images.length ? layoutIndex(images.map((i) => ({ name: i.name, descriptor: i.top }))).length + OCI_LAYOUT_BYTES.length : 0,
    unavailable,
    fetch: () => fetchImages(ctx, images, clientFor),
  };
};

/** Plan, then fetch. */
export const collectImages = (ctx: BuildContext): Promise<KindOutput> => collectWith(planImages, ctx);

/** Every blob of the resolved images once, by digest: manifests, configs, layers; and those already cached. */
async function imageFigures(images: ResolvedImage[], store: ContentStore): Promise<KindFigures> {
  const sizes = new Map<string, number>();
  for (const image of images) for (const d of [...image.manifests, ...image.blobs]) sizes.set(d.digest, d.size);
  let bytes = 0;
  let cachedBytes = 0;
  for (const [digest, size] of sizes) {
    bytes += size;
    if (await store.has(hexOf(digest), size)) cachedBytes += size;
  }
  return { count: images.length, bytes, cachedBytes };
}

/** Each blob once, whichever images share it, from the source that resolved the first image needing it. */
async function fetchImages(ctx: BuildContext, images: ResolvedImage[], clientFor: ClientFor): Promise<KindOutput> {
  if (!images.length) return { entries: [], lock: [] };
  const owners = new Map<string, { desc: Descriptor; image: ResolvedImage }>();
  for (const image of images) for (const b of image.blobs) if (!owners.has(b.digest)) owners.set(b.digest, { desc: b, image });
  const total = [...owners.values()].reduce((n, o) => n + o.desc.size, 0);
  ctx.onProgress({ type: 'phase', phase: 'images', message: `fetching ${owners.size} blobs (${total} bytes) for ${images.length} images` });
  const stored = new Map<string, string>();
  // Largest first, so one big layer does not start last and run alone.
  const queue = [...owners.values()].sort((a, b) => b.desc.size - a.desc.size);
  await mapLimit(queue, ctx.requests.limit, async ({ desc, image }) => {
    const client = await clientFor(image.ref.registry);
    stored.set(desc.digest, await ctx.requests.run(() => fetchBlob(client, image, desc, ctx)));
  });
  return { entries: bundleEntries(images, stored), lock: lockEntries(images, owners) };
}

/** Prefix an error with the image and registry it is about, keeping its code, exit code and hint. */
function naming(err: unknown, what: string): unknown {
  if (!(err instanceof KsBundleError) || err.message.includes(what)) return err;
  const wrapped = new KsBundleError(err.code, `${what}: ${err.message}`, { hint: err.hint, cause: err, exitCode: err.exitCode });
  wrapped.name = err.name;
  return wrapped;
}

async function fetchBlob(client: RegistryClient, image: ResolvedImage, desc: Descriptor, ctx: BuildContext): Promise<string> {
  const what = `blob ${desc.digest.slice(0, 19)}… of image ${image.source} (registry ${client.registry})`;
  const url = client.url(image.ref.repo, `blobs/${desc.digest}`);
  const scope = pullScope(image.ref.repo);
  const spec = { url, sha256: hexOf(desc.digest), size: desc.size, what, headers: () => client.auth.headers(scope), tls: client.tls };
  const opts = { store: ctx.store, onProgress: ctx.onProgress, id: desc.digest };
  try {
    return (await ctx.http.download(spec, opts)).path;
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) return retryAuthorised();
    throw naming(err, what);
  }
  async function retryAuthorised(): Promise<string> {
    // A token that expired, or a registry we only ever read from the cache so far: authorise once and go again.
    await client.send(url, scope, what, { method: 'HEAD' });
    return (await ctx.http.download(spec, opts)).path;
  }
}

function bundleEntries(images: ResolvedImage[], stored: Map<string, string>): BundleEntry[] {
  const files = new Map<string, BundleEntry>();
  const add = (d: Descriptor, file: string) => {
    const path = `${LAYOUT_DIR}/${blobPath(d.digest)}`;
    if (!files.has(path)) files.set(path, { path, file, size: d.size, sha256: hexOf(d.digest) });
  };
  for (const image of images) {
    for (const m of image.manifests) add(m, m.path);
    for (const b of image.blobs) add(b, stored.get(b.digest)!);
  }
  const index = layoutIndex(images.map((i) => ({ name: i.name, descriptor: i.top })));
  return [
    { path: `${LAYOUT_DIR}/oci-layout`, data: OCI_LAYOUT_BYTES, size: OCI_LAYOUT_BYTES.length },
    { path: `${LAYOUT_DIR}/index.json`, data: index, size: index.length },
    ...[...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
  ];
}

function lockEntries(images: ResolvedImage[], owners: Map<string, { desc: Descriptor; image: ResolvedImage }>): LockEntry[] {
  const lock: LockEntry[] = [];
  const blobs = new Map<string, LockEntry>();
  for (const image of images) {
    // The image is locked under its original name with the full reference it was fetched as; its blobs with the
    // repository they came from.
    const source = repoName(image.ref);
    lock.push({
      kind: 'image',
      name: image.name,
      source: image.source,
      size: image.top.size,
      sha256: hexOf(image.top.digest),
      extra: { digest: image.top.digest, mediaType: image.top.mediaType, platforms: image.kept, leftOut: image.leftOut },
    });
    for (const m of image.manifests) {
      if (!blobs.has(m.digest)) blobs.set(m.digest, { kind: 'blob', name: m.digest, source, size: m.size, sha256: hexOf(m.digest), extra: { mediaType: m.mediaType } });
    }
  }
  for (const { desc, image } of owners.values()) {
    if (!blobs.has(desc.digest)) blobs.set(desc.digest, { kind: 'blob', name: desc.digest, source: repoName(image.ref), size: desc.size, sha256: hexOf(desc.digest), extra: { mediaType: desc.mediaType } });
  }
  return [...lock.sort((a, b) => (a.name < b.name ? -1 : 1)), ...[...blobs.values()].sort((a, b) => (a.name < b.name ? -1 : 1))];
}

function lockedImageDigests(locked: BuildContext['locked']): Map<string, string> | undefined {
  if (!locked) return undefined;
  const out = new Map<string, string>();
  for (const e of locked) {
    if (e.kind !== 'image') continue;
    const d = e.extra?.digest;
    if (typeof d !== 'string') throw new KsBundleError('INVALID_INPUT', `lock: image ${e.name} has no digest`);
    out.set(e.name, d);
  }
  return out;
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
