/**
 * The mirror's `/pypi/` mount, over the bundle's static index `repos/pip/` as written: `/pypi/simple/<project>/` is
 * the project's page (HTML by default, PEP 691 JSON when `Accept` prefers it) and `/pypi/files/<wheel>` a wheel or
 * its `.metadata`, so the pages' own `../../files/<wheel>` links work unchanged. Pages are read from disk on every
 * request like any other file: nothing to cache, nothing to go stale when the bundle is unpacked again.
 */
import type { ServerResponse } from 'node:http';
import type { Mount } from '../serving/types.js';
import { safeSegments } from '../serving/safe-path.js';
import { sendFile, sendFromTree } from '../serving/send-file.js';
import { PIP_ROOT } from './index-writer.js';
import { normalizeName, PROJECT_NAME } from './names.js';
import { PEP691_HTML, PEP691_JSON } from './simple-index.js';

const MOUNT = '/pypi/';
const PAGE = /^index\.(html|json)$/;

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

function redirect(res: ServerResponse, location: string): true {
  res.writeHead(301, { location, 'content-type': 'text/plain' });
  res.end(`see ${location}\n`);
  return true;
}

export const pipMount: Mount = {
  path: MOUNT,
  create: (bundle) => {
    const root = bundle.sub(...PIP_ROOT.split('/'));
    const files = root.sub('files');
    return async (req, res, rest) => {
      const raw = rest.split('?')[0]!;
      const segments = safeSegments(raw);
      if (!segments) return false;
      const [top, ...inner] = segments;
      if (top === 'files') return inner.length === 1 && sendFromTree(req, res, files, inner[0]!);
      if (top !== 'simple' || inner.length > 2) return false;
      // Pages served before the index was mounted whole linked `/pypi/simple/files/<wheel>`; pip may have them cached.
      if (inner.length === 2 && inner[0] === 'files' && !PAGE.test(inner[1]!)) return redirect(res, `${MOUNT}files/${encodeURIComponent(inner[1]!)}`);
      let dir: string[] = [];
      let named: string | undefined;
      if (inner.length === 0) {
        if (!raw.endsWith('/')) return redirect(res, `${MOUNT}simple/`);
      } else if (inner.length === 1 && PAGE.test(inner[0]!)) {
        named = inner[0];
      } else {
        const [project, page] = inner as [string, string | undefined];
        if (!PROJECT_NAME.test(project) || (page !== undefined && !PAGE.test(page))) return false;
        const normal = normalizeName(project);
        // pip asks for the normalised name with a trailing slash; anything else is sent there.
        if (normal !== project || (page === undefined && !raw.endsWith('/'))) return redirect(res, `${MOUNT}simple/${normal}/${page ?? ''}`);
        dir = [project];
        named = page;
      }
      const json = named ? named === 'index.json' : wantsJson(req.headers.accept);
      const file = await root.open(['simple', ...dir, json ? 'index.json' : 'index.html']);
      if (!file) return false;
      const st = file.stats;
      await sendFile(req, res, file, {
        contentType: json ? PEP691_JSON : 'text/html; charset=utf-8',
        etag: `"${st.ino.toString(16)}-${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
        headers: { vary: 'Accept' },
      });
      return true;
    };
  },
};
