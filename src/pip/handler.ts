/**
 * The mirror's `/pypi/simple/` mount, straight from the bundle's static index: HTML by default, PEP 691 JSON when
 * `Accept` prefers it. The pages on disk link `../../files/<wheel>` (right for the static tree, where files sit in
 * `repos/pip/files/`); under this mount that would leave it, so the served pages link `../files/<wheel>` and this
 * handler answers `/pypi/simple/files/<wheel>` from `repos/pip/files/`. Pages are small and the bundle is read-only,
 * so each is read and rewritten once and kept in memory.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MirrorHandler } from '../serving/types.js';
import { resolveInside, safeSegments } from '../serving/safe-path.js';
import { sendFromTree } from '../serving/send-file.js';
import { FILES_LINK_PREFIX, PIP_ROOT } from './index-writer.js';
import { normalizeName, PROJECT_NAME } from './names.js';
import { PEP691_HTML, PEP691_JSON } from './simple-index.js';

const FILES = 'files';
const MAX_CACHED = 4096;
const cache = new Map<string, { body: Buffer; etag: string }>();

/** q-value of the best match for any of `types` in an Accept header; the any-type wildcard counts only when `wildcard`. */
function quality(accept: string, types: string[], wildcard: boolean): number {
  let best = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().split(';').map((s) => s.trim());
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? '1');
    const hit = !!type && (types.includes(type.toLowerCase()) || (wildcard && type === '*/*'));
    if (hit && Number.isFinite(q)) best = Math.max(best, q);
  }
  return best;
}

/** PEP 691 negotiation: JSON only when asked for by name and rated at least as high as HTML; HTML otherwise. */
export function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const json = quality(accept, [PEP691_JSON], false);
  return json > 0 && json >= quality(accept, [PEP691_HTML, 'text/html'], true);
}

async function page(file: string): Promise<{ body: Buffer; etag: string } | undefined> {
  const hit = cache.get(file);
  if (hit) return hit;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  // Only the link prefix the index writer produced is rewritten; it appears in href/url values alone.
  const body = Buffer.from(text.split(`"${FILES_LINK_PREFIX}`).join(`"../${FILES}/`), 'utf8');
  const st = await stat(file);
  const entry = { body, etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"` };
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(file, entry);
  return entry;
}

function redirect(res: ServerResponse, location: string): true {
  res.writeHead(301, { location, 'content-type': 'text/plain' });
  res.end(`see ${location}\n`);
  return true;
}

export const pipHandler: MirrorHandler = async (req, res, rest, ctx) => {
  const raw = rest.split('?')[0]!;
  const segments = safeSegments(raw);
  if (!segments) return false;
  const root = join(ctx.bundleDir, PIP_ROOT);
  if (segments[0] === FILES && segments.length === 2) return sendFromTree(req, res, join(root, FILES), segments[1]!);
  if (segments.length > 1 && !(segments.length === 2 && /^index\.(html|json)$/.test(segments[1]!))) return false;
  const project = segments[0];
  if (project !== undefined) {
    if (!PROJECT_NAME.test(project)) return false;
    const normal = normalizeName(project);
    // pip asks for the normalised name with a trailing slash; anything else is sent there.
    if (normal !== project) return redirect(res, `../${normal}/`);
    if (segments.length === 1 && !raw.endsWith('/')) return redirect(res, `${normal}/`);
  }
  const json = segments[1] ? segments[1] === 'index.json' : wantsJson(req.headers.accept);
  const dir = project === undefined ? [] : [project];
  const file = await resolveInside(join(root, 'simple'), [...dir, json ? 'index.json' : 'index.html']);
  if (!file) return false;
  const found = await page(file);
  if (!found) return false;
  return sendPage(req, res, found, json);
};

function sendPage(req: IncomingMessage, res: ServerResponse, p: { body: Buffer; etag: string }, json: boolean): true {
  const headers = {
    'content-type': json ? PEP691_JSON : 'text/html; charset=utf-8',
    'content-length': String(p.body.length),
    vary: 'Accept',
    etag: p.etag,
  };
  if (req.headers['if-none-match'] === p.etag) {
    res.writeHead(304, { vary: 'Accept', etag: p.etag });
    res.end();
    return true;
  }
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : p.body);
  return true;
}

/** For a `/pypi/files/` mount, should the lead add one: the static tree's own links then work unchanged. */
export const pipFilesHandler: MirrorHandler = async (req, res, rest, ctx) => sendFromTree(req, res, join(ctx.bundleDir, PIP_ROOT, FILES), rest);
