import type { BundleEntry } from '../bundle/entry.js';
import type { BuildContext, Collector, KindOutput } from '../collector/context.js';
import { collectWith, resolvedInFetch } from '../collector/run.js';
import type { LockEntry } from '../lock/entry.js';
import { HttpError, InputError, KsBundleError } from '../errors.js';
import { pullScope, RegistryClient, baseUrlFor, caFor, registryTrust, type RegistrySettingsLike } from './client.js';
import { loadCredentials } from './credentials.js';
import { LAYOUT_DIR, OCI_LAYOUT_BYTES, blobPath, layoutIndex } from './layout.js';
import { hexOf, type Descriptor } from './media.js';
import { mapLimit } from '../util/concurrency.js';
import { formatReference, parseReference, repoName } from './reference.js';
import { resolveImage, type ResolvedImage } from './resolve.js';

/**
 * spec.images → one OCI image layout under repos/images/. Manifests are resolved image by image (small), then
 * every blob of every image is deduplicated by digest and fetched once, through the build's request limiter, straight
 * into the content store (hash and size checked while streaming; a cached blob is not fetched).
 */
async function fetchImages(ctx: BuildContext): Promise<KindOutput> {
  const { manifest, store, onProgress } = ctx;
  if (!manifest.images?.length) return { entries: [], lock: [] };
  const settings = (manifest.registries ?? {}) as Record<string, RegistrySettingsLike>;
  const credentials = await loadCredentials({ authFile: ctx.registryAuthFile });
  const wanted = uniq(manifest.targets.map((t) => `linux/${t.arch}`)).map((p) => ({ os: 'linux', arch: p.split('/')[1]! }));
  const clients = new Map<string, Promise<RegistryClient>>();
  const openClient = async (registry: string) => {
    const base = baseUrlFor(registry, settings);
    const ca = caFor(registry, settings);
    const tls = await registryTrust([new URL(base).host, registry], ca?.file, `registries."${ca?.key ?? registry}".ca in ${manifest.file}`);
    return new RegistryClient(registry, base, credentials, ctx.http, tls);
  };
  const clientFor = (registry: string) => {
    let c = clients.get(registry);
    if (!c) clients.set(registry, (c = openClient(registry)));
    return c;
  };
  const lockedDigests = lockedImageDigests(ctx.locked);

  onProgress({ type: 'phase', phase: 'images', message: `resolving ${manifest.images.length} image references` });
  // Validation has parsed every reference and warned about spellings of one image; each is fetched once.
  const refs = [...new Map(manifest.images.map((s) => parseReference(s)).map((r) => [formatReference(r), r])).values()];
  const images = await mapLimit(refs, ctx.requests.limit, async (ref) => {
    const name = formatReference(ref);
    let lockedDigest: string | undefined;
    if (lockedDigests) {
      lockedDigest = lockedDigests.get(name);
      if (!lockedDigest) throw new InputError(`--locked: image ${name} is not in the lock`, { hint: 'Build without --locked to update the lock.' });
    }
    // One image's manifests are asked for one after another: one slot of the limiter each.
    return ctx.requests.run(async () => resolveImage(ref, { client: await clientFor(ref.registry), store, wanted, lockedDigest })).catch((err) => {
      throw naming(err, `image ${name} (registry ${ref.registry})`);
    });
  });
  if (lockedDigests) {
    const extra = [...lockedDigests.keys()].filter((n) => !images.some((i) => i.name === n));
    if (extra.length) throw new InputError(`--locked: the lock has images the manifest no longer names: ${extra.join(', ')}`);
  }

  // One download per digest, whichever images share it.
  const owners = new Map<string, { desc: Descriptor; image: ResolvedImage }>();
  for (const image of images) for (const b of image.blobs) if (!owners.has(b.digest)) owners.set(b.digest, { desc: b, image });
  const total = [...owners.values()].reduce((n, o) => n + o.desc.size, 0);
  onProgress({ type: 'phase', phase: 'images', message: `fetching ${owners.size} blobs (${total} bytes) for ${images.length} images` });
  const stored = new Map<string, string>();
  // Largest first, so one big layer does not start last and run alone.
  const queue = [...owners.values()].sort((a, b) => b.desc.size - a.desc.size);
  await mapLimit(queue, ctx.requests.limit, async ({ desc, image }) => {
    const client = await clientFor(image.ref.registry);
    stored.set(desc.digest, await ctx.requests.run(() => fetchBlob(client, image, desc, ctx)));
  });

  return { entries: bundleEntries(images, stored), lock: lockEntries(images, owners) };
};

/** Prefix an error with the image and registry it is about, keeping its code, exit code and hint. */
function naming(err: unknown, what: string): unknown {
  if (!(err instanceof KsBundleError) || err.message.includes(what)) return err;
  const wrapped = new KsBundleError(err.code, `${what}: ${err.message}`, { hint: err.hint, cause: err, exitCode: err.exitCode });
  wrapped.name = err.name;
  return wrapped;
}

async function fetchBlob(client: RegistryClient, image: ResolvedImage, desc: Descriptor, ctx: Parameters<Collector>[0]): Promise<string> {
  const what = `blob ${desc.digest.slice(0, 19)}… of image ${image.name} (registry ${client.registry})`;
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
    const source = repoName(image.ref);
    lock.push({
      kind: 'image',
      name: image.name,
      source,
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

function lockedImageDigests(locked: Parameters<Collector>[0]['locked']): Map<string, string> | undefined {
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

export const planImages: Collector = async (ctx) => resolvedInFetch(() => fetchImages(ctx));

/** Plan, then fetch. */
export const collectImages = (ctx: BuildContext): Promise<KindOutput> => collectWith(planImages, ctx);
