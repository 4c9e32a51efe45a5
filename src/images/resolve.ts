import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { DigestMismatchError, KsBundleError, unavailableReason } from '../errors.js';
import type { ContentStore } from '../store/content-store.js';
import type { RegistryClient } from './client.js';
import { hexOf, isIndexType, parseManifest, platformString, platformWanted, type Descriptor, type ParsedManifest } from './media.js';
import { formatReference, manifestReference, type ImageRef } from './reference.js';

/** One image reference resolved to its manifests (stored) and the blobs they need (not yet fetched). */
export interface ResolvedImage {
  /** The source it was resolved from (the original name or an alternate): its blobs are fetched from there too. */
  ref: ImageRef;
  /** The original full normalised reference: the layout's ref.name and the lock's name, whatever the source. */
  name: string;
  /** The full reference actually fetched (the lock's `source`). */
  source: string;
  /** The top-level manifest or index, with its original digest. */
  top: Descriptor;
  /** Every manifest kept (the top one, and the kept platforms' manifests of an index), stored in the content store. */
  manifests: Array<Descriptor & { path: string }>;
  /** Configs and layers of the kept manifests. */
  blobs: Descriptor[];
  kept: string[];
  leftOut: string[];
}

export interface ResolveOptions {
  client: RegistryClient;
  store: ContentStore;
  /** os/arch pairs to keep from an index. */
  wanted: Array<{ os: string; arch: string }>;
  /** The digest the lock pins this ref to (--locked). */
  lockedDigest?: string;
  /** The original name when `ref` is an alternate source of it. */
  name?: string;
}

/**
 * Fetch the manifest of `ref` (the pinned or locked digest when there is one, else the tag), check it against the
 * pin, and for an index fetch the manifests of the wanted platforms. The original index bytes are stored
 * unchanged, so the index digest a user pinned still matches; left-out platforms are simply not fetched.
 */
export async function resolveImage(ref: ImageRef, opts: ResolveOptions): Promise<ResolvedImage> {
  const source = formatReference(ref);
  const name = opts.name ?? source;
  const what = `image ${source} (registry ${opts.client.registry})`;
  const pin = opts.lockedDigest ?? ref.digest;
  if (opts.lockedDigest && ref.digest && opts.lockedDigest !== ref.digest) {
    throw new KsBundleError('RESOLVE', `${what}: the lock says ${opts.lockedDigest}, the manifest pins ${ref.digest}`);
  }
  const manifests: ResolvedImage['manifests'] = [];
  const blobs: Descriptor[] = [];
  const kept: string[] = [];
  const leftOut: string[] = [];

  // The top manifest always comes from the source, pinned or not: that the source serves it is what makes it the
  // source (the lock's), and a pin it no longer serves is found out here, not halfway through the downloads.
  const top = await fetchManifest(opts, ref.repo, pin ?? manifestReference(ref), what, undefined, { fresh: true }).catch(async (err) => {
    throw pin ? await pinnedMiss(opts.client, ref, pin, what, err) : err;
  });
  if (pin && top.descriptor.digest !== pin) {
    throw new DigestMismatchError(`${what}: the registry served ${top.descriptor.digest}, pinned ${pin}`, pin, top.descriptor.digest);
  }
  const visit = async (m: { descriptor: Descriptor; parsed: ParsedManifest; path: string }, depth: number): Promise<void> => {
    manifests.push({ ...m.descriptor, path: m.path });
    if (m.parsed.kind === 'image') {
      blobs.push(m.parsed.config, ...m.parsed.layers.filter((l) => !l.urls?.length));
      return;
    }
    if (depth > 2) throw new KsBundleError('RESOLVE', `${what}: indexes nested too deep`);
    let any = false;
    for (const child of m.parsed.manifests) {
      const nested = isIndexType(child.mediaType);
      if (!nested && !platformWanted(child.platform, opts.wanted)) {
        leftOut.push(platformString(child.platform));
        continue;
      }
      any = true;
      if (!nested) kept.push(platformString(child.platform));
      await visit(await fetchManifest(opts, ref.repo, child.digest, `${what}, ${platformString(child.platform)}`, child), depth + 1);
    }
    if (!any) {
      const want = opts.wanted.map((w) => `${w.os}/${w.arch}`).join(', ');
      throw new KsBundleError('RESOLVE', `${what}: no manifest for ${want}; it has ${leftOut.join(', ') || 'none'}`, {
        hint: 'Pick an image built for the bundle targets, or change spec.targets.',
      });
    }
  };
  await visit(top, 0);
  return { ref, name, source, top: top.descriptor, manifests, blobs, kept, leftOut };
}

/**
 * A source that does not serve a pinned digest: when its tag points at other content, that is a digest mismatch
 * naming both digests (a moved tag, a rebuilt copy), never a silent substitution; otherwise the original error.
 */
async function pinnedMiss(client: RegistryClient, ref: ImageRef, pin: string, what: string, err: unknown): Promise<unknown> {
  if (unavailableReason(err) !== 'not-found' || !ref.tag) return err;
  const other = await client.getManifest(ref.repo, ref.tag, what).then((m) => m.digest, () => undefined);
  if (!other || other === pin) return err;
  return new DigestMismatchError(`${what}: it does not serve the pinned ${pin}; its tag ${ref.tag} points at ${other}`, pin, other, {
    hint: 'The tag there now names other content than the pin: check which is right before changing the pin or the lock.',
  });
}

/** A manifest by digest comes from the cache when it is there (unless `fresh`); by tag (or not cached) from the registry. */
async function fetchManifest(opts: ResolveOptions, repo: string, reference: string, what: string, expected: Descriptor | undefined, { fresh = false } = {}) {
  const { store, client } = opts;
  if (reference.startsWith('sha256:') && !fresh) {
    const have = await store.has(hexOf(reference), expected?.size);
    if (have) {
      const bytes = await readFile(have.path);
      return describe(bytes, expected?.mediaType, reference, have.path, what);
    }
  }
  const got = await client.getManifest(repo, reference, what);
  if (expected && (got.digest !== expected.digest || got.bytes.length !== expected.size)) {
    throw new DigestMismatchError(`${what}: got ${got.digest} (${got.bytes.length} bytes), the index names ${expected.digest} (${expected.size} bytes)`, expected.digest, got.digest);
  }
  if (reference.startsWith('sha256:') && got.digest !== reference) {
    throw new DigestMismatchError(`${what}: asked for ${reference}, the registry served ${got.digest}`, reference, got.digest);
  }
  const stored = await store.put(Readable.from([got.bytes]), { sha256: hexOf(got.digest), size: got.bytes.length }, what);
  return describe(got.bytes, expected?.mediaType ?? got.mediaType, got.digest, stored.path, what);
}

function describe(bytes: Buffer, mediaType: string | undefined, digest: string, path: string, what: string) {
  let parsed: ParsedManifest;
  try {
    parsed = parseManifest(bytes, mediaType);
  } catch (err) {
    throw new KsBundleError('RESOLVE', `${what}: ${(err as Error).message}`);
  }
  const descriptor: Descriptor = { mediaType: parsed.mediaType, digest, size: bytes.length };
  return { descriptor, parsed, path };
}
