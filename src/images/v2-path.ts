import { DIGEST, isRepoComponent, looksLikeRegistry } from './reference.js';

/**
 * Classify the path of a `/v2/` request (after the mount, before the query). Pure. Names, tags and digests never
 * need percent-encoding, so any `%` is refused outright: no encoded `..`, `/` or NUL can reach the layout.
 */
export type V2Request =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string[] }
  | { kind: 'manifest'; name: string[]; reference: string }
  | { kind: 'blob'; name: string[]; digest: string }
  | { kind: 'unsupported' }
  | { kind: 'invalid'; reason: string };

export function parseV2Path(rawPath: string): V2Request {
  if (rawPath === '' || rawPath === '/') return { kind: 'base' };
  if (rawPath.includes('%')) return { kind: 'invalid', reason: 'percent-encoded characters are not valid in a repository path' };
  if (/[\\\0]/.test(rawPath)) return { kind: 'invalid', reason: 'invalid character in path' };
  const segs = rawPath.replace(/\/$/, '').split('/');
  if (segs.some((s) => s === '')) return { kind: 'invalid', reason: 'empty path segment' };
  if (segs.length === 1 && segs[0] === '_catalog') return { kind: 'catalog' };
  const uploads = segs.lastIndexOf('uploads');
  if (uploads > 1 && segs[uploads - 1] === 'blobs') return { kind: 'unsupported' };
  if (segs.length < 3) return { kind: 'invalid', reason: 'not a registry API path' };
  const last = segs[segs.length - 1]!;
  const verb = segs[segs.length - 2]!;
  const name = segs.slice(0, -2);
  const bad = checkName(name);
  if (bad) return { kind: 'invalid', reason: bad };
  if (verb === 'tags' && last === 'list') return { kind: 'tags', name };
  if (verb === 'manifests') return { kind: 'manifest', name, reference: last };
  if (verb === 'blobs') {
    if (!DIGEST.test(last)) return { kind: 'invalid', reason: 'a blob is named by sha256:<64 lowercase hex>' };
    return { kind: 'blob', name, digest: last };
  }
  return { kind: 'invalid', reason: 'not a registry API path' };
}

function checkName(name: string[]): string | undefined {
  const [first, ...rest] = name;
  if (!first) return 'empty repository name';
  const components = rest.length > 0 && looksLikeRegistry(first) ? rest : name;
  for (const c of components) if (!isRepoComponent(c)) return `"${c}" is not a valid repository name component`;
  return undefined;
}
