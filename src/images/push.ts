import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpError, InputError, KsBundleError } from '../errors.js';
import type { HttpClient } from '../net/client.js';
import { noProgress, type OnProgress } from '../progress/events.js';
import { RegistryClient, pushScope, registryTrust } from './client.js';
import { loadCredentials } from './credentials.js';
import { LAYOUT_DIR, blobPath, readLayout } from './layout.js';
import { isIndexType, parseManifest, type Descriptor } from './media.js';
import { mapLimit } from '../util/concurrency.js';
import { isDomain, isRepoComponent, parseReference } from './reference.js';

export interface PushOptions {
  /** `host[:port][/prefix]`: `harbor.example.com/kubesphere`, `127.0.0.1:5000`. */
  registry: string;
  /** docker config.json with credentials (also read: ~/.docker/config.json, KS_BUNDLE_REGISTRY_AUTH_<HOST>). */
  authFile?: string;
  onProgress?: OnProgress;
  /** Plain HTTP (default: HTTPS). */
  insecure?: boolean;
  /** PEM file of the private CA that signed the registry's certificate (trusted besides the system CAs). */
  ca?: string;
  concurrency?: number;
  /** The command's HTTP client (retries, TLS, proxy, idle timeout). */
  http: HttpClient;
}

export interface PushSummary {
  images: number;
  /** Images whose tag already pointed at the same digest: nothing was sent for them. */
  upToDate: number;
  blobsUploaded: number;
  blobsMounted: number;
  blobsPresent: number;
  manifestsPut: number;
  bytesUploaded: number;
}

/**
 * Copy every image of the bundle's OCI layout into an existing registry, digests unchanged. A ref
 * `docker.io/library/busybox:1.36` goes to `<host>/<prefix>/library/busybox:1.36` (the source registry's host is
 * dropped, as Harbor projects expect). Blobs the registry has are skipped (HEAD), blobs pushed to another
 * repository in this run are mounted, and an image whose tag already resolves to the same digest is not touched,
 * so a rerun pushes nothing twice.
 */
export async function pushBundleImages(bundleDir: string, opts: PushOptions): Promise<PushSummary> {
  const onProgress = opts.onProgress ?? noProgress;
  const { host, prefix } = parseTarget(opts.registry);
  const root = join(bundleDir, LAYOUT_DIR);
  const layout = await readLayout(root).catch((err) => {
    throw new InputError(`${root}: not an OCI image layout (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  });
  const credentials = await loadCredentials({ authFile: opts.authFile });
  const tls = await registryTrust([host], opts.ca, '--ca');
  const client = new RegistryClient(host, `${opts.insecure ? 'http' : 'https'}://${host}`, credentials, opts.http, tls);
  const summary: PushSummary = { images: 0, upToDate: 0, blobsUploaded: 0, blobsMounted: 0, blobsPresent: 0, manifestsPut: 0, bytesUploaded: 0 };
  /** digest → a repository of the target registry that has it, for cross-repo mounts. */
  const placed = new Map<string, string>();
  const concurrency = opts.concurrency ?? 4;

  for (const ref of layout.refs) {
    const parsed = parseReference(ref.name);
    const repo = prefix ? `${prefix}/${parsed.repo}` : parsed.repo;
    const reference = parsed.tag ?? parsed.digest ?? ref.descriptor.digest;
    const what = `image ${ref.name} → ${host}/${repo}:${reference}`;
    summary.images++;
    onProgress({ type: 'phase', phase: 'push', message: what });
    if ((await client.headManifest(repo, reference, pushScope(repo), what)) === ref.descriptor.digest) {
      summary.upToDate++;
      continue;
    }
    const { manifests, blobs } = await collectTree(root, ref.descriptor, what);
    await mapLimit(blobs, concurrency, async (b) => {
      const bwhat = `blob ${b.digest.slice(0, 19)}… of ${what}`;
      if (await client.hasBlob(repo, b.digest, pushScope(repo), bwhat)) {
        summary.blobsPresent++;
      } else if (placed.has(b.digest) && placed.get(b.digest) !== repo && (await client.mountBlob(repo, b.digest, placed.get(b.digest)!, bwhat))) {
        summary.blobsMounted++;
      } else {
        onProgress({ type: 'start', id: b.digest, label: bwhat, total: b.size });
        await client.uploadBlob(repo, b.digest, b.size, join(root, blobPath(b.digest)), bwhat, (attempt, reason) => onProgress({ type: 'retry', id: b.digest, attempt, reason }));
        onProgress({ type: 'done', id: b.digest, bytes: b.size, cached: false });
        summary.blobsUploaded++;
        summary.bytesUploaded += b.size;
      }
      if (!placed.has(b.digest)) placed.set(b.digest, repo);
    });
    // Children first: a registry refuses an index whose manifests it does not have.
    for (const m of manifests.reverse()) {
      const ref2 = m === ref.descriptor ? reference : m.digest;
      try {
        await client.putManifest(repo, ref2, await readFile(join(root, blobPath(m.digest))), m.mediaType, `manifest ${m.digest} of ${what}`);
      } catch (err) {
        if (err instanceof HttpError && isIndexType(m.mediaType)) {
          throw new KsBundleError('FAILED', `${what}: the registry refused the index (${(err as Error).message})`, {
            cause: err,
            hint: 'The bundle keeps only the targets\' platforms; a registry that insists on every platform of an index cannot take it. Push from a bundle built with all platforms, or use the mirror.',
          });
        }
        throw err;
      }
      summary.manifestsPut++;
    }
  }
  return summary;
}

/** Every manifest (top first) and every blob the bundle holds for one ref. Manifests of left-out platforms are absent. */
async function collectTree(root: string, top: Descriptor, what: string): Promise<{ manifests: Descriptor[]; blobs: Descriptor[] }> {
  const manifests: Descriptor[] = [];
  const blobs = new Map<string, Descriptor>();
  const walk = async (d: Descriptor, isTop: boolean) => {
    const bytes = await readFile(join(root, blobPath(d.digest))).catch(() => undefined);
    if (!bytes) {
      if (isTop) throw new KsBundleError('INTEGRITY', `${what}: ${d.digest} is missing from the bundle`, { exitCode: 3 });
      return;
    }
    manifests.push(isTop ? d : { mediaType: d.mediaType, digest: d.digest, size: d.size });
    const m = parseManifest(bytes, d.mediaType);
    if (m.kind === 'index') for (const c of m.manifests) await walk(c, false);
    else for (const b of [m.config, ...m.layers]) blobs.set(b.digest, b);
  };
  await walk(top, true);
  return { manifests, blobs: [...blobs.values()] };
}

export function parseTarget(target: string): { host: string; prefix: string } {
  const cleaned = target.replace(/^(https?|docker):\/\//, '').replace(/\/+$/, '');
  const [host, ...path] = cleaned.split('/');
  if (!host || !isDomain(host)) throw new InputError(`--registry ${target}: expected host[:port][/prefix]`);
  if (!path.every(isRepoComponent)) throw new InputError(`--registry ${target}: the prefix must be lowercase repository path components`);
  return { host, prefix: path.join('/') };
}
