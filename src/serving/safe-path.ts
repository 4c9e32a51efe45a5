import { sep } from 'node:path';

/**
 * Turn the percent-encoded rest of a URL path into path segments, refusing anything that could step outside the
 * served root: `..`, `.`, empty inner segments, backslashes, NUL, and encoded slashes (`%2f`), which would let a
 * single "segment" hold a traversal. Pure. Returns undefined for a path that must not be served.
 */
export function safeSegments(rawRest: string): string[] | undefined {
  const withoutQuery = rawRest.split('?')[0]!;
  const rawSegments = withoutQuery.split('/');
  const out: string[] = [];
  for (let i = 0; i < rawSegments.length; i++) {
    const raw = rawSegments[i]!;
    if (raw === '') {
      if (i === rawSegments.length - 1 || i === 0) continue;
      return undefined;
    }
    if (/%2f|%5c|%00/i.test(raw)) return undefined;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (seg === '.' || seg === '..' || seg.includes('/') || seg.includes('\\') || seg.includes('\0')) return undefined;
    out.push(seg);
  }
  return out;
}

/** Whether `path` is `root` itself or lies under it. Both are absolute and normalised (real paths). Pure. */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}
