import { HttpError } from '../errors.js';
import type { HeaderMap, HttpClient } from './client.js';
import { httpRefusalHint } from './network-error.js';
import { RetriableError } from './retry.js';
import { RETRIABLE_STATUS, parseRetryAfter } from './retry-policy.js';
import type { TlsTrust } from './tls.js';

export interface ProbeOptions {
  /** Label for messages: which artifact this is. */
  what?: string;
  headers?: HeaderMap;
  tls?: TlsTrust;
}

export interface ProbeResult {
  /** Bytes the URL serves; undefined when the server says neither a length nor a range total. */
  size?: number;
  /** Where the answer finally came from, after redirects. */
  url: string;
}

/** HEAD answers a server gives when it will not say anything about HEAD (or about a GET-signed URL asked by HEAD). */
const HEAD_REFUSED = new Set([400, 403, 405, 501]);

/**
 * The size of what a URL serves without its body: a HEAD, or when a server refuses HEAD or gives no length, a GET of
 * its first byte (`Range: bytes=0-0`, the total from Content-Range). A 404, 401 or 403 is the HttpError a download
 * would give, so a plan says what a build would.
 */
export async function probeSize(client: HttpClient, url: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const head = await client.request(url, { method: 'HEAD', what: opts.what, headers: opts.headers, tls: opts.tls, accept: (s) => HEAD_REFUSED.has(s) });
  const length = head.ok ? lengthOf(head.headers.get('content-length')) : undefined;
  if (length !== undefined) return { size: length, url: head.url };
  return client.retrying(opts.what ?? url, async () => {
    const res = await client.open(url, { ...(opts.headers ?? {}), range: 'bytes=0-0' }, opts.tls);
    res.discard();
    if (res.status === 206) return { size: totalOfContentRange(res.headers['content-range']), url };
    if (res.status === 200) return { size: lengthOf(res.headers['content-length']), url };
    if (RETRIABLE_STATUS.has(res.status)) throw new RetriableError(`${opts.what ?? url}: HTTP ${res.status}`, parseRetryAfter(res.headers['retry-after']));
    throw new HttpError(url, res.status, res.statusMessage, { hint: httpRefusalHint(res.status, opts.what) });
  });
}

function lengthOf(value: string | null | undefined): number | undefined {
  if (!value || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** `bytes 0-0/12345` → 12345; `bytes 0-0/*` (length unknown) → undefined. Pure. */
export function totalOfContentRange(value: string | undefined): number | undefined {
  const m = /^\s*bytes\s+\d+-\d+\/(\d+)\s*$/i.exec(value ?? '');
  return m ? Number(m[1]) : undefined;
}
