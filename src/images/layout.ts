import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServedRoot } from '../serving/root.js';
import { OCI_INDEX, REF_NAME, hexOf, parseManifest, platformString, type Descriptor } from './media.js';
import { parseReference, repoName } from './reference.js';

/**
 * The bundle's images are one OCI image layout (image-spec layout.md): `oci-layout`, `index.json`, and
 * `blobs/sha256/<hex>` holding every manifest, index, config and layer. Each entry of index.json carries its full
 * normalised reference as `org.opencontainers.image.ref.name`, so `skopeo copy oci:DIR:docker.io/library/x:1` works.
 */
export const LAYOUT_DIR = 'repos/images';
export const OCI_LAYOUT_BYTES = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }));

export function blobPath(digest: string): string {
  return `blobs/sha256/${hexOf(digest)}`;
}

/** index.json for a set of refs, sorted by name so the same refs give the same bytes. Pure. */
export function layoutIndex(refs: Array<{ name: string; descriptor: Descriptor }>): Buffer {
  const manifests = [...refs]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, descriptor }) => ({
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
      annotations: { [REF_NAME]: name },
    }));
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, null, 1) + '\n');
}

/** What one repository of the layout holds, for the registry API. */
export interface RepoView {
  /** tag → top-level descriptor */
  tags: Map<string, Descriptor>;
  /** every manifest reachable from the repo's refs and present in the layout: digest → media type */
  manifests: Map<string, string>;
  /** configs and layers of those manifests */
  blobs: Set<string>;
  /** manifests an index names but the bundle left out (platform not among the targets): digest → platform */
  leftOut: Map<string, string>;
}

export interface LayoutView {
  root: string;
  /** `docker.io/library/busybox` → its view */
  repos: Map<string, RepoView>;
  /** top-level refs in index.json order, with their parsed names */
  refs: Array<{ name: string; repo: string; tag?: string; descriptor: Descriptor }>;
  /** The bytes of the manifests and indexes read, by digest, up to KEPT_MANIFEST_BYTES in all (the mirror answers from them). */
  manifestBytes: Map<string, Buffer>;
}

/** Manifests are a few KB each: 16 MiB keeps those of thousands of images. */
const KEPT_MANIFEST_BYTES = 16 << 20;

/** index.json's top-level descriptors: the one parser of a layout's index. Pure. */
export function parseLayoutIndex(text: string): Descriptor[] {
  const doc = JSON.parse(text) as { manifests?: Descriptor[] } | null;
  return Array.isArray(doc?.manifests) ? doc.manifests : [];
}

/** The full names (`docker.io/library/busybox:1.36`) index.json gives its refs, in its order. Pure. */
export function refNamesOfIndex(text: string): string[] {
  return parseLayoutIndex(text).flatMap((d) => (d.annotations?.[REF_NAME] ? [d.annotations[REF_NAME]] : []));
}

/** Reads a file of the layout by its path inside it (`index.json`, `blobs/sha256/<hex>`); rejects when it cannot. */
export type LayoutReader = (rel: string) => Promise<Buffer>;

/**
 * Read a layout's index.json and walk its manifests (small JSON files) once. Blobs are never opened. `read` says how
 * a file is read: plainly by default, or through the mirror's checks of where a file really lies.
 */
export async function readLayout(root: string, read: LayoutReader = (rel) => readFile(join(root, rel))): Promise<LayoutView> {
  const index = { manifests: parseLayoutIndex((await read('index.json')).toString('utf8')) };
  const repos = new Map<string, RepoView>();
  const refs: LayoutView['refs'] = [];
  const parsedCache = new Map<string, ReturnType<typeof parseManifest> | null>();
  const manifestBytes = new Map<string, Buffer>();
  let kept = 0;
  const readManifest = async (d: Descriptor) => {
    if (!parsedCache.has(d.digest)) {
      const bytes = await read(blobPath(d.digest)).catch(() => undefined);
      parsedCache.set(d.digest, bytes ? parseManifest(bytes, d.mediaType) : null);
      if (bytes && kept + bytes.length <= KEPT_MANIFEST_BYTES) {
        manifestBytes.set(d.digest, bytes);
        kept += bytes.length;
      }
    }
    return parsedCache.get(d.digest)!;
  };
  for (const d of index.manifests ?? []) {
    const name = d.annotations?.[REF_NAME];
    if (!name) continue;
    let ref;
    try {
      ref = parseReference(name);
    } catch {
      continue;
    }
    const repo = repoName(ref);
    refs.push({ name, repo, tag: ref.tag, descriptor: d });
    let view = repos.get(repo);
    if (!view) repos.set(repo, (view = { tags: new Map(), manifests: new Map(), blobs: new Set(), leftOut: new Map() }));
    if (ref.tag) view.tags.set(ref.tag, d);
    const walk = async (desc: Descriptor): Promise<void> => {
      const m = await readManifest(desc);
      if (!m) {
        view!.leftOut.set(desc.digest, platformString(desc.platform));
        return;
      }
      view!.manifests.set(desc.digest, desc.mediaType);
      if (m.kind === 'index') {
        for (const child of m.manifests) await walk(child);
      } else {
        view!.blobs.add(m.config.digest);
        for (const l of m.layers) view!.blobs.add(l.digest);
      }
    };
    await walk(d);
  }
  return { root, repos, refs, manifestBytes };
}

/** The largest manifest or index.json the mirror reads (distribution's own limit for a manifest is 4 MiB). */
const MAX_LAYOUT_JSON = 64 << 20;

/**
 * One mirror's view of the bundle's layout, read again when index.json is another file or was written again (a
 * bundle unpacked again under the running mirror): its inode, size, mtime and ctime are compared on every request,
 * so a replacement with the same size and the bundle's fixed mtime is still seen. Every file is read through the
 * mirror's ServedRoot, so a layout whose files lead out of the bundle reads as missing.
 */
export class LayoutCache {
  private cached?: { key: string; view: Promise<LayoutView> };
  constructor(readonly root: ServedRoot) {}

  async get(): Promise<LayoutView | undefined> {
    // One stat per request (it waits in the thread pool behind blob reads); the reads below check where files lie.
    const st = await stat(join(this.root.path, 'index.json')).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    if (this.cached?.key !== key) {
      const view = readLayout(this.root.path, async (rel) => {
        const bytes = await this.root.readSmall(rel.split('/'), MAX_LAYOUT_JSON);
        if (!bytes) throw new Error(`${rel}: missing from the bundle, larger than ${MAX_LAYOUT_JSON} bytes, or outside it`);
        return bytes;
      });
      this.cached = { key, view };
      view.catch(() => {
        if (this.cached?.view === view) this.cached = undefined;
      });
    }
    return this.cached.view;
  }
}
