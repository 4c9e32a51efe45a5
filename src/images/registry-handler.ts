import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { sendFile } from '../serving/send-file.js';
import { resolveInside } from '../serving/safe-path.js';
import type { MirrorContext, MirrorHandler } from '../serving/types.js';
import { LAYOUT_DIR, LayoutCache, type LayoutView, type RepoView } from './layout.js';
import { hexOf } from './media.js';
import { DIGEST, DOCKER_HUB, isDomain, isTag, looksLikeRegistry } from './reference.js';
import { parseV2Path, type V2Request } from './v2-path.js';

/**
 * The mirror's `/v2/`: the pull side of the OCI distribution API, read-only, straight from the bundle's OCI layout.
 * Which registry a name means: `?ns=<registry>` (containerd's mirror parameter), else a registry-prefixed name
 * (`/v2/docker.io/library/busybox/...`), else docker.io. Errors are OCI error JSON; every 404 is a miss.
 */
const caches = new Map<string, LayoutCache>();

function layoutOf(bundleDir: string): LayoutCache {
  let c = caches.get(bundleDir);
  if (!c) caches.set(bundleDir, (c = new LayoutCache(join(bundleDir, LAYOUT_DIR))));
  return c;
}

const API_HEADERS = { 'docker-distribution-api-version': 'registry/2.0' };

export const registryHandler: MirrorHandler = async (req, res, rest, ctx) => {
  const [rawPath, query = ''] = splitQuery(rest);
  const parsed = parseV2Path(rawPath);
  if (parsed.kind === 'base') {
    sendJson(req, res, 200, {});
    return true;
  }
  if (parsed.kind === 'invalid') return fail(req, res, ctx, 400, 'NAME_INVALID', parsed.reason);
  if (parsed.kind === 'unsupported') return fail(req, res, ctx, 405, 'UNSUPPORTED', 'the mirror is read-only');
  const layout = await layoutOf(ctx.bundleDir).get();
  if (!layout) return fail(req, res, ctx, 404, 'NAME_UNKNOWN', 'this bundle holds no images');
  const ns = new URLSearchParams(query).get('ns') ?? undefined;
  if (ns !== undefined && !isDomain(ns)) return fail(req, res, ctx, 400, 'NAME_INVALID', 'ns is not a registry host');
  if (parsed.kind === 'catalog') {
    sendJson(req, res, 200, { repositories: catalog(layout, ns) });
    return true;
  }
  const found = findRepo(layout, parsed.name, ns);
  if (!found) return fail(req, res, ctx, 404, 'NAME_UNKNOWN', `repository ${describeName(parsed.name, ns)} is not in this bundle`);
  const [repoKey, view] = found;
  switch (parsed.kind) {
    case 'tags':
      sendJson(req, res, 200, { name: repoKey, tags: [...view.tags.keys()].sort() });
      return true;
    case 'manifest':
      return serveManifest(req, res, ctx, layout, repoKey, view, parsed);
    case 'blob':
      return serveBlob(req, res, ctx, layout, repoKey, view, parsed.digest);
  }
};

async function serveManifest(req: IncomingMessage, res: ServerResponse, ctx: MirrorContext, layout: LayoutView, repoKey: string, view: RepoView, p: Extract<V2Request, { kind: 'manifest' }>): Promise<boolean> {
  let digest: string;
  let mediaType: string | undefined;
  if (DIGEST.test(p.reference)) {
    digest = p.reference;
    const platform = view.leftOut.get(digest);
    if (platform) {
      return fail(req, res, ctx, 404, 'MANIFEST_UNKNOWN', `manifest ${digest} of ${repoKey} is for ${platform}, a platform this bundle left out (it keeps only the manifest's targets)`);
    }
    mediaType = view.manifests.get(digest);
  } else if (isTag(p.reference)) {
    const d = view.tags.get(p.reference);
    if (!d) return fail(req, res, ctx, 404, 'MANIFEST_UNKNOWN', `${repoKey}:${p.reference} is not in this bundle`);
    digest = d.digest;
    mediaType = d.mediaType;
  } else {
    return fail(req, res, ctx, 400, 'TAG_INVALID', 'not a tag or a sha256 digest');
  }
  if (!mediaType) return fail(req, res, ctx, 404, 'MANIFEST_UNKNOWN', `manifest ${digest} is not in ${repoKey} in this bundle`);
  return sendBlobFile(req, res, ctx, layout, digest, mediaType, 'MANIFEST_UNKNOWN');
}

async function serveBlob(req: IncomingMessage, res: ServerResponse, ctx: MirrorContext, layout: LayoutView, repoKey: string, view: RepoView, digest: string): Promise<boolean> {
  // Registries answer blob requests for manifests too (skopeo and containerd fetch indexes that way).
  const mediaType = view.manifests.get(digest);
  if (!view.blobs.has(digest) && !mediaType) return fail(req, res, ctx, 404, 'BLOB_UNKNOWN', `blob ${digest} is not in ${repoKey} in this bundle`);
  return sendBlobFile(req, res, ctx, layout, digest, mediaType ?? 'application/octet-stream', 'BLOB_UNKNOWN');
}

async function sendBlobFile(req: IncomingMessage, res: ServerResponse, ctx: MirrorContext, layout: LayoutView, digest: string, contentType: string, code: string): Promise<boolean> {
  // The digest was checked against /^sha256:[a-f0-9]{64}$/; resolveInside still refuses a symlink leading out.
  const file = await resolveInside(layout.root, ['blobs', 'sha256', hexOf(digest)]);
  if (!file) return fail(req, res, ctx, 404, code, `${digest} is named by the layout but its file is missing from the bundle`);
  await sendFile(req, res, file, { contentType, headers: { ...API_HEADERS, 'docker-content-digest': digest, etag: `"${digest}"` } });
  return true;
}

function findRepo(layout: LayoutView, name: string[], ns: string | undefined): [string, RepoView] | undefined {
  const candidates: string[] = [];
  const registry = ns === 'index.docker.io' || ns === 'registry-1.docker.io' ? DOCKER_HUB : ns;
  if (registry) candidates.push(`${registry}/${name.join('/')}`);
  else {
    if (name.length > 1 && looksLikeRegistry(name[0]!)) candidates.push(name.join('/'));
    candidates.push(`${DOCKER_HUB}/${name.join('/')}`);
  }
  if ((registry ?? DOCKER_HUB) === DOCKER_HUB && name.length === 1) candidates.push(`${DOCKER_HUB}/library/${name[0]}`);
  for (const c of candidates) {
    const v = layout.repos.get(c);
    if (v) return [c, v];
  }
  return undefined;
}

function catalog(layout: LayoutView, ns: string | undefined): string[] {
  const names = [...layout.repos.keys()];
  if (!ns) return names.sort();
  return names.filter((n) => n.startsWith(ns + '/')).map((n) => n.slice(ns.length + 1)).sort();
}

function describeName(name: string[], ns: string | undefined): string {
  return ns ? `${ns}/${name.join('/')}` : name.join('/');
}

function splitQuery(rest: string): [string, string | undefined] {
  const q = rest.indexOf('?');
  return q < 0 ? [rest, undefined] : [rest.slice(0, q), rest.slice(q + 1)];
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { ...API_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function fail(req: IncomingMessage, res: ServerResponse, ctx: MirrorContext, status: number, code: string, message: string): true {
  sendJson(req, res, status, { errors: [{ code, message, detail: {} }] });
  ctx.miss(`${code}: ${message}`);
  return true;
}

