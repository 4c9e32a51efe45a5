/**
 * The two forms of the simple repository API, parsed into one shape: PEP 503 HTML (with PEP 592 yanked, PEP 658/714
 * metadata attributes and data-requires-python) and PEP 691 JSON. Pure: the caller supplies the page URL so that
 * relative links resolve.
 */

export interface IndexFile {
  filename: string;
  /** Absolute URL without the fragment. */
  url: string;
  sha256?: string;
  requiresPython?: string;
  /** false, or the reason (possibly empty) the file was yanked. */
  yanked: false | string;
  /** PEP 658/714: a `<url>.metadata` file exists; its sha256 when the index gave it. */
  metadata?: { sha256?: string };
  /** Bytes, when the index says (PEP 700 `size` in the JSON form). */
  size?: number;
}

export interface ProjectPage {
  files: IndexFile[];
}

export const PEP691_JSON = 'application/vnd.pypi.simple.v1+json';
export const PEP691_HTML = 'application/vnd.pypi.simple.v1+html';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function htmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e.toLowerCase()] ?? all;
  });
}

export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function parseAttributes(text: string): Map<string, string> {
  const attrs = new Map<string, string>();
  const re = /([^\s"'>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (let m; (m = re.exec(text)); ) attrs.set(m[1]!.toLowerCase(), htmlUnescape(m[2] ?? m[3] ?? m[4] ?? ''));
  return attrs;
}

/** `sha256=<hex>` / `true` as the metadata attributes carry it. */
function metadataAttr(value: string | undefined): IndexFile['metadata'] {
  if (value === undefined || value === 'false') return undefined;
  const m = /^sha256=([0-9a-f]{64})$/i.exec(value);
  return m ? { sha256: m[1]!.toLowerCase() } : {};
}

function filenameOf(url: URL): string {
  const last = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

export function parseHtmlPage(html: string, pageUrl: string): ProjectPage {
  // A <base href> changes what links are relative to (pip honours it too).
  const base = /<base\s([^>]*)>/i.exec(html);
  const baseHref = base ? parseAttributes(base[1]!).get('href') : undefined;
  const baseUrl = baseHref ? new URL(baseHref, pageUrl).toString() : pageUrl;
  const files: IndexFile[] = [];
  const re = /<a\s([^>]*)>/gi;
  for (let m; (m = re.exec(html)); ) {
    const attrs = parseAttributes(m[1]!);
    const href = attrs.get('href');
    if (!href) continue;
    const url = new URL(href, baseUrl);
    const hash = /(?:^|&)sha256=([0-9a-f]{64})/i.exec(url.hash.slice(1));
    url.hash = '';
    const yanked = attrs.get('data-yanked');
    files.push({
      filename: filenameOf(url),
      url: url.toString(),
      sha256: hash ? hash[1]!.toLowerCase() : undefined,
      requiresPython: attrs.get('data-requires-python') || undefined,
      yanked: yanked === undefined ? false : yanked,
      metadata: metadataAttr(attrs.get('data-core-metadata') ?? attrs.get('data-dist-info-metadata')),
    });
  }
  return { files };
}

interface JsonFile {
  filename: string;
  url: string;
  hashes?: Record<string, string>;
  'requires-python'?: string | null;
  yanked?: boolean | string;
  'core-metadata'?: boolean | Record<string, string>;
  'dist-info-metadata'?: boolean | Record<string, string>;
  size?: number;
}

export function parseJsonPage(json: string, pageUrl: string): ProjectPage {
  const doc = JSON.parse(json) as { meta?: { 'api-version'?: string }; files?: JsonFile[] };
  const major = (doc.meta?.['api-version'] ?? '1.0').split('.')[0];
  if (major !== '1') throw new Error(`unsupported simple API version ${doc.meta?.['api-version']}`);
  return {
    files: (doc.files ?? []).map((f) => {
      const url = new URL(f.url, pageUrl);
      url.hash = '';
      const meta = f['core-metadata'] ?? f['dist-info-metadata'];
      return {
        filename: f.filename,
        url: url.toString(),
        sha256: f.hashes?.sha256?.toLowerCase(),
        requiresPython: f['requires-python'] || undefined,
        yanked: f.yanked === undefined || f.yanked === false ? false : f.yanked === true ? '' : f.yanked,
        metadata: meta === undefined || meta === false ? undefined : meta === true ? {} : { sha256: meta.sha256?.toLowerCase() },
        ...(Number.isSafeInteger(f.size) && f.size! >= 0 ? { size: f.size } : {}),
      };
    }),
  };
}

/** Pick the parser by the response's content type; servers that ignore Accept (static ones) send HTML. */
export function parseProjectPage(body: string, contentType: string | null, pageUrl: string): ProjectPage {
  if (contentType && /^application\/vnd\.pypi\.simple\.v1\+json\b/i.test(contentType)) return parseJsonPage(body, pageUrl);
  return parseHtmlPage(body, pageUrl);
}
