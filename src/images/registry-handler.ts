import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendBytes, sendFile } from '../serving/send-file.js';
import type { MirrorContext, MirrorHandler, Mount } from '../serving/types.js';
import { LAYOUT_DIR, LayoutCache, type LayoutView, type RepoView } from './layout.js';
import { hexOf } from './media.js';
import { DIGEST, DOCKER_HUB, isDomain, isTag, looksLikeRegistry } from './reference.js';
import { parseV2Path } from './v2-path.js';

const API_HEADERS = { 'docker-distribution-api-version': 'registry/2.0' };

/**
 * The mirror's `/v2/`: the pull side of the OCI distribution API, read-only, straight from the bundle's OCI layout.
 * Which registry a name means: `?ns=<registry>` (containerd's mirror parameter), else a registry-prefixed name
 * (`/v2/docker.io/library/busybox/...`), else docker.io. Errors are OCI error JSON; every 404 is a miss.
 * Each mirror reads the layout into its own cache.
 */
export const registryMount: Mount = {
  path: '/v2/',
  create: (bundle) => registryHandler(new LayoutCache(bundle.sub(...LAYOUT_DIR.split('/')))),
};

const registryHandler = (layouts: LayoutCache): MirrorHandler => async (req, res, rest, ctx) => {
  const [rawPath, query = ''] = splitQuery(rest);
  const parsed = parseV2Path(rawPath);
  if (parsed.kind === 'base') {
    sendJson(req, res, 200, {});
    return true;
  }
  if (parsed.kind === 'invalid') return fail(req, res, ctx, 400, 'NAME_INVALID', parsed.reason);
  if (parsed.kind === 'unsupported') return fail(req, res, ctx, 405, 'UNSUPPORTED', 'the mirror is read-only');
  const layout = await layouts.get();
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
      return serveManifest({ req, res, ctx, layouts, layout, repoKey, view }, parsed.reference);
    case 'blob':
      return serveBlob({ req, res, ctx, layouts, layout, repoKey, view }, parsed.digest);
  }
};

/** One request for something of one repository. */
interface RepoRequest {
  req: IncomingMessage;
  res: ServerResponse;
  ctx: MirrorContext;
  layouts: LayoutCache;
  layout: LayoutView;
  repoKey: string;
  view: RepoView;
}

async function serveManifest(r: RepoRequest, reference: string): Promise<boolean> {
  const { req, res, ctx, repoKey, view } = r;
  let digest: string;
  let mediaType: string | undefined;
  if (DIGEST.test(reference)) {
    digest = reference;
    const platform = view.leftOut.get(digest);
    if (platform) {
      return fail(req, res, ctx, 404, 'MANIFEST_UNKNOWN', `manifest ${digest} of ${repoKey} is for ${platform}, a platform this bundle left out (it keeps only the manifest's targets)`);
    }
    mediaType = view.manifests.get(digest);
  } else if (isTag(reference)) {
    const d = view.tags.get(reference);
    if (!d) return fail(req, res, ctx, 404, 'MANIFEST_UNKNOWN', `${repoKey}:${reference} is not in this bundle`);
    digest = d.digest;
    mediaType = d.mediaType;
  } else {
    return fail(req, res, ctx, 400, 'TAG_INVALID', 'not a tag or a sha256 digest');
  }
  if (!mediaType) return fail(req, res, ctx, 404, 'MANIFEST_UNKNOWN', `manifest ${digest} is not in ${repoKey} in this bundle`);
  return sendBlobFile(r, digest, mediaType, 'MANIFEST_UNKNOWN');
}

async function serveBlob(r: RepoRequest, digest: string): Promise<boolean> {
  // Registries answer blob requests for manifests too (skopeo and containerd fetch indexes that way).
  const mediaType = r.view.manifests.get(digest);
  if (!r.view.blobs.has(digest) && !mediaType) return fail(r.req, r.res, r.ctx, 404, 'BLOB_UNKNOWN', `blob ${digest} is not in ${r.repoKey} in this bundle`);
  return sendBlobFile(r, digest, mediaType ?? 'application/octet-stream', 'BLOB_UNKNOWN');
}

async function sendBlobFile(r: RepoRequest, digest: string, contentType: string, code: string): Promise<boolean> {
  const opts = { contentType, etag: `"${digest}"`, headers: { ...API_HEADERS, 'docker-content-digest': digest } };
  // A manifest comes from the bytes read with the layout (through the same checks of where its file lies): a pull
  // asks for one per image and platform, and a file opened, checked and closed each time costs several times more.
  const bytes = r.layout.manifestBytes.get(digest);
  if (bytes) {
    sendBytes(r.req, r.res, bytes, opts);
    return true;
  }
  // The digest was checked against /^sha256:[a-f0-9]{64}$/; the root still refuses a file that really lies elsewhere.
  const file = await r.layouts.root.open(['blobs', 'sha256', hexOf(digest)]);
  if (!file) return fail(r.req, r.res, r.ctx, 404, code, `${digest} is named by the layout but its file is missing from the bundle`);
  await sendFile(r.req, r.res, file, opts);
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

