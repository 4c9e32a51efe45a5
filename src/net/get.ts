import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KsBundleError, redactUrl } from '../errors.js';
import type { BulkResponse } from './bulk-response.js';
import { rawGet } from './raw-get.js';
import { agentFor, untrustedCertificate, type TlsTrust } from './tls.js';

type Headers = Record<string, string>;

export interface SendOptions {
  method?: string;
  headers?: Headers;
  body?: Buffer | string | Readable;
  signal?: AbortSignal;
  /** A private CA for some hosts (see TlsTrust). */
  tls?: TlsTrust;
}

/**
 * One request on node:http(s), redirects not followed. A certificate that does not verify is a KsBundleError naming
 * the URL (not retried).
 */
export function send(url: URL, opts: SendOptions = {}): Promise<IncomingMessage> {
  const agent = agentFor(url, opts.tls);
  const transport = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<IncomingMessage>((resolve, reject) => {
    let answer: IncomingMessage | undefined;
    const req = transport(url, { method: opts.method ?? 'GET', headers: opts.headers, signal: opts.signal, ...(agent ? { agent } : {}) }, (res) => {
      answer = res;
      resolve(res);
    });
    // A server that stops sending but keeps the connection open would hang a build for good: after this long with
    // no byte either way the request fails as a timeout, which is retried and resumed with Range. Once the answer
    // has begun, its body is what the caller reads, so that is what fails.
    const idle = idleTimeoutMs();
    req.setTimeout(idle, () => {
      const err = Object.assign(new Error(`no data from ${url.host} for ${idle / 1000} s`), { name: 'TimeoutError' });
      answer?.destroy(err);
      req.destroy(err);
    });
    req.on('error', (err) => reject(untrustedCertificate(url, err, opts.tls) ?? err));
    if (opts.body instanceof Readable) pipeline(opts.body, req).catch(reject);
    else req.end(opts.body);
  });
}

/** `KS_BUNDLE_IDLE_TIMEOUT` seconds (default 60). */
function idleTimeoutMs(): number {
  const s = Number(process.env.KS_BUNDLE_IDLE_TIMEOUT);
  return (Number.isFinite(s) && s > 0 ? s : 60) * 1000;
}

/** What the redirect loop needs from one answer, whichever client gave it. */
export interface Hop<T> {
  res: T;
  status: number;
  location: string | null | undefined;
  /** Throw the body away (the answer was a redirect). */
  discard(): void;
}

/**
 * Follow redirects by hand so Authorization never travels to another host (registries redirect blobs to object
 * storage): once the host changes, the header is gone for every later hop.
 */
export async function followRedirects<T>(url: string, headers: Headers, maxRedirects: number, hop: (url: URL, headers: Headers) => Promise<Hop<T>>): Promise<T> {
  let current = new URL(url);
  const origin = current.host;
  let h = headers;
  for (let n = 0; n <= maxRedirects; n++) {
    const { res, status, location, discard } = await hop(current, h);
    if (!location || status < 300 || status >= 400) return res;
    discard();
    current = new URL(location, current);
    if (current.host !== origin) h = Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== 'authorization'));
  }
  throw new KsBundleError('HTTP', `${redactUrl(url)}: too many redirects`);
}

/**
 * A GET whose body goes to disk, following redirects. Plain http reads the socket into a reused 1 MiB buffer
 * (`raw-get.ts`); https goes through node:https. Both are several times faster than fetch's web streams here.
 */
export function httpGet(url: string, headers: Headers, signal?: AbortSignal, tls?: TlsTrust, maxRedirects = 5): Promise<BulkResponse> {
  return followRedirects(url, headers, maxRedirects, async (u, h) => {
    const res = u.protocol === 'http:' ? await rawGet(u, h, { signal, idleMs: idleTimeoutMs() }) : fromIncoming(await send(u, { headers: h, signal, tls }));
    const location = res.headers.location;
    return { res, status: res.status, location: Array.isArray(location) ? location[0] : location, discard: () => res.discard() };
  });
}

function fromIncoming(res: IncomingMessage): BulkResponse {
  return {
    status: res.statusCode ?? 0,
    statusMessage: res.statusMessage ?? '',
    headers: res.headers,
    body: async (take) => {
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          const busy = take(chunk);
          if (busy) await busy;
        }
      } catch (err) {
        res.destroy();
        throw err;
      }
    },
    discard: () => res.destroy(),
  };
}
