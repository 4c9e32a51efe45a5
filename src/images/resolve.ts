import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { IntegrityError, KsBundleError } from '../errors.js';
import type { ContentStore } from '../store/content-store.js';
import type { RegistryClient } from './client.js';
import { hexOf, isIndexType, parseManifest, platformString, platformWanted, type Descriptor, type ParsedManifest } from './media.js';
import { formatReference, manifestReference, type ImageRef } from './reference.js';

/** One image reference resolved to its manifests (stored) and the blobs they need (not yet fetched). */
export interface ResolvedImage {
  ref: ImageRef;
  /** Full normalised reference: the layout's ref.name and the lock's name. */
  name: string;
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
}

/**
 * Fetch the manifest of `ref` (the pinned or locked digest when there is one, else the tag), check it against the
 * pin, and for an index fetch the manifests of the wanted platforms. The original index bytes are stored
 * unchanged, so the index digest a user pinned still matches; left-out platforms are simply not fetched.
 */
export async function resolveImage(ref: ImageRef, opts: ResolveOptions): Promise<ResolvedImage> {
  const name = formatReference(ref);
  const what = `image ${name} (registry ${opts.client.registry})`;
  const pin = opts.lockedDigest ?? ref.digest;
  if (opts.lockedDigest && ref.digest && opts.lockedDigest !== ref.digest) {
    throw new KsBundleError('RESOLVE', `${what}: the lock says ${opts.lockedDigest}, the manifest pins ${ref.digest}`);
  }
  const manifests: ResolvedImage['manifests'] = [];
  const blobs: Descriptor[] = [];
  const kept: string[] = [];
  const leftOut: string[] = [];

  const top = await fetchManifest(opts, ref.repo, pin ?? manifestReference(ref), what, undefined);
  if (pin && top.descriptor.digest !== pin) {
    throw new IntegrityError(`${what}: the registry served ${top.descriptor.digest}, pinned ${pin}`);
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
  return { ref, name, top: top.descriptor, manifests, blobs, kept, leftOut };
}

/** A manifest by digest comes from the cache when it is there; by tag (or not cached) from the registry. */
async function fetchManifest(opts: ResolveOptions, repo: string, reference: string, what: string, expected: Descriptor | undefined) {
  const { store, client } = opts;
  if (reference.startsWith('sha256:')) {
    const have = await store.has(hexOf(reference), expected?.size);
    if (have) {
      const bytes = await readFile(have.path);
      return describe(bytes, expected?.mediaType, reference, have.path, what);
    }
  }
  const got = await client.getManifest(repo, reference, what);
  if (expected && (got.digest !== expected.digest || got.bytes.length !== expected.size)) {
    throw new IntegrityError(`${what}: got ${got.digest} (${got.bytes.length} bytes), the index names ${expected.digest} (${expected.size} bytes)`);
  }
  if (reference.startsWith('sha256:') && got.digest !== reference) {
    throw new IntegrityError(`${what}: asked for ${reference}, the registry served ${got.digest}`);
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
