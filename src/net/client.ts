import { KsBundleError, HttpError, redactUrl } from '../errors.js';
import { SinkThread } from '../store/sink-thread.js';
import type { BulkResponse } from './bulk-response.js';
import { proxyAuthorization, routeFor } from './dial.js';
import { downloadToStore, type DownloadOptions, type DownloadResult, type DownloadSpec } from './download.js';
import { exchange, StaleConnection, type RequestBody } from './exchange.js';
import { ProtocolError, requestHead } from './http1.js';
import { ConnectionPool } from './pool.js';
import { httpRefusalHint, networkFailure } from './network-error.js';
import { probeSize, type ProbeOptions, type ProbeResult } from './probe.js';
import { proxyFor, type ProxySettings } from './proxy.js';
import { withRetry, RetriableError, type RetryOptions } from './retry.js';
import { RETRIABLE_STATUS, parseRetryAfter } from './retry-policy.js';
import { TrustStore, privateCaFor, untrustedCertificate, type TlsTrust } from './tls.js';

export type HeaderMap = Record<string, string>;

export interface HttpClientOptions {
  /** No byte either way for this long fails a request as a timeout (retried, and resumed with Range). */
  idleMs: number;
  retry?: RetryOptions;
  /** Cancels every request of the client. */
  signal?: AbortSignal;
  proxy?: ProxySettings;
  /** PEM text of the CAs in NODE_EXTRA_CA_CERTS, trusted next to a registry's private CA too. */
  extraCa?: string;
}

export interface RequestOptions {
  method?: string;
  headers?: HeaderMap | (() => Promise<HeaderMap>);
  body?: RequestBody;
  /** Statuses handed back to the caller instead of thrown (2xx always are). */
  accept?: (status: number) => boolean;
  /** Label for messages: which artifact this request is for. */
  what?: string;
  maxRedirects?: number;
  /** A private CA for some hosts. */
  tls?: TlsTrust;
  /** An answer larger than this fails (default 64 MiB); bulk bodies go through `download`. */
  maxBytes?: number;
  /** No retry here: the caller retries a larger step with `retrying` (a blob upload's POST and PUT together). */
  once?: boolean;
}

/** A whole, small answer. */
export interface HttpResponse {
  /** Where the answer finally came from, after redirects. */
  url: string;
  status: number;
  ok: boolean;
  statusText: string;
  headers: { get(name: string): string | null };
  bytes: Buffer;
  text(): string;
  json(): unknown;
}

export interface HttpClient {
  /** One request with retries and redirects; the answer is read whole (bounded). */
  request(url: string, opts?: RequestOptions): Promise<HttpResponse>;
  /** One GET, redirects followed, no retry, whose body the caller takes chunk by chunk. */
  open(url: string, headers: HeaderMap, tls?: TlsTrust, signal?: AbortSignal): Promise<BulkResponse>;
  /** The size of what a URL serves, from a HEAD or a one-byte Range GET: nothing of the body is downloaded. */
  probe(url: string, opts?: ProbeOptions): Promise<ProbeResult>;
  /** Download → hash → disk in one pass into the content store, retried and resumed with Range. */
  download(spec: DownloadSpec, opts: DownloadOptions): Promise<DownloadResult>;
  /** Run a step of several requests under the client's retry policy. */
  retrying<T>(label: string, attempt: () => Promise<T>, onRetry?: (attempt: number, reason: string) => void, signal?: AbortSignal): Promise<T>;
  /** The thread that hashes and writes downloads, made on first use. */
  sink(): SinkThread;
  readonly signal?: AbortSignal;
  /** Close kept connections and stop the sink thread. */
  close(): Promise<void>;
}

const MAX_SMALL = 64 << 20;

/**
 * The one HTTP client of a command: HTTP/1.1 on a socket of its own for http and https alike (reads land in a reused
 * 1 MiB buffer; node:http and fetch cost several CPU-seconds per GB more here), connections kept alive per origin,
 * proxies and private CAs the same way on every request, one retry policy and one idle timeout. Redirects are
 * followed by hand so that Authorization never travels to another host.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const pool = new ConnectionPool();
  const trust = new TrustStore(options.extraCa);
  const retry = options.retry ?? {};
  let sink: SinkThread | undefined;

  async function hop(url: URL, headers: HeaderMap, method: string, body: RequestBody | undefined, tls: TlsTrust | undefined, signal: AbortSignal | undefined): Promise<BulkResponse> {
    const proxy = proxyFor(url, options.proxy ?? {});
    const route = routeFor(url, proxy, trust.contextFor(privateCaFor(url, tls)));
    const viaProxy = proxy && url.protocol === 'http:';
    const auth = viaProxy ? proxyAuthorization(proxy) : undefined;
    const fields = { ...headers, ...(auth ? { 'proxy-authorization': auth } : {}), ...bodyLength(method, body) };
    let head: string;
    try {
      head = requestHead(url, fields, { method, absolute: !!viaProxy });
    } catch (err) {
      if (err instanceof ProtocolError) throw new KsBundleError('HTTP', `${redactUrl(url.href)}: ${err.message}`, { cause: err });
      throw err;
    }
    const opts = { method, body, signal, idleMs: options.idleMs };
    // A socket's own error (ENOTFOUND, ECONNREFUSED, a reset, a TLS failure) becomes one naming the host and the
    // proxy variables, whether it comes before the answer's head or in the middle of its body.
    const named = (err: unknown) => (signal?.aborted ? err : (untrustedCertificate(url, err, tls) ?? networkFailure(err, url, proxy, options.proxy ?? {}) ?? err));
    try {
      let res: BulkResponse | undefined;
      for (let conn = pool.reuse(route); conn && !res; conn = pool.reuse(route)) {
        try {
          res = await exchange(conn, url, head, opts);
        } catch (err) {
          if (!(err instanceof StaleConnection)) throw err;
        }
      }
      res ??= await exchange(await pool.open(route, signal), url, head, opts);
      const take = res.body.bind(res);
      res.body = (taker) =>
        take(taker).catch((err: unknown) => {
          throw named(err);
        });
      return res;
    } catch (err) {
      throw named(err);
    }
  }

  /** Follow redirects; once the host changes, Authorization is gone for every later hop. */
  async function follow(url: string, headers: HeaderMap, method: string, body: RequestBody | undefined, tls: TlsTrust | undefined, signal: AbortSignal | undefined, maxRedirects = 5): Promise<{ res: BulkResponse; url: URL }> {
    let current = new URL(url);
    const origin = current.host;
    let h = headers;
    for (let n = 0; n <= maxRedirects; n++) {
      const res = await hop(current, h, method, body, tls, signal);
      const location = res.headers.location;
      if (!location || res.status < 300 || res.status >= 400) return { res, url: current };
      res.discard();
      current = new URL(location, current);
      if (current.host !== origin) h = Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== 'authorization'));
    }
    throw new KsBundleError('HTTP', `${redactUrl(url)}: too many redirects`);
  }

  const client: HttpClient = {
    signal: options.signal,
    async request(url, opts = {}) {
      const accept = opts.accept ?? (() => false);
      const label = opts.what ? `${opts.what} (${redactUrl(url)})` : redactUrl(url);
      const method = opts.method ?? 'GET';
      const limit = opts.maxBytes ?? MAX_SMALL;
      const attempt = async () => {
        const headers = typeof opts.headers === 'function' ? await opts.headers() : { ...(opts.headers ?? {}) };
        const { res, url: final } = await follow(url, headers, method, opts.body, opts.tls, options.signal, opts.maxRedirects);
        const ok = res.status >= 200 && res.status < 300;
        if (!ok && !accept(res.status)) {
          res.discard();
          if (RETRIABLE_STATUS.has(res.status)) throw new RetriableError(`${label}: HTTP ${res.status}`, parseRetryAfter(res.headers['retry-after']));
          throw new HttpError(url, res.status, res.statusMessage, { hint: httpRefusalHint(res.status, opts.what) });
        }
        // The answer to a HEAD has no body, whatever size its Content-Length gives (a blob's, say).
        const length = method === 'HEAD' ? 0 : Number(res.headers['content-length'] ?? 0);
        if (length > limit) {
          res.discard();
          throw tooLarge(label, limit);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        await res.body((chunk) => {
          size += chunk.length;
          if (size > limit) throw tooLarge(label, limit);
          chunks.push(Buffer.from(chunk));
          return undefined;
        });
        return smallResponse(final.href, res, Buffer.concat(chunks, size));
      };
      return opts.once ? attempt() : withRetry(label, attempt, retry, options.signal);
    },
    async open(url, headers, tls, signal) {
      return (await follow(url, headers, 'GET', undefined, tls, signal ?? options.signal)).res;
    },
    probe: (url, opts) => probeSize(client, url, opts),
    download: (spec, opts) => downloadToStore(client, spec, opts),
    retrying: (label, attempt, onRetry, signal) => withRetry(label, attempt, retry, signal ?? options.signal, onRetry),
    sink: () => (sink ??= new SinkThread()),
    async close() {
      pool.close();
      await sink?.stop();
      sink = undefined;
    },
  };
  return client;
}

function bodyLength(method: string, body: RequestBody | undefined): HeaderMap {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return { 'content-length': String(Buffer.byteLength(body)) };
  if (body === undefined && (method === 'POST' || method === 'PUT' || method === 'PATCH')) return { 'content-length': '0' };
  return {};
}

function tooLarge(label: string, limit: number): KsBundleError {
  return new KsBundleError('HTTP', `${label}: the answer is larger than the ${limit >> 20} MiB limit`);
}

function smallResponse(url: string, res: BulkResponse, bytes: Buffer): HttpResponse {
  const fields = res.headers;
  return {
    url,
    status: res.status,
    ok: res.status >= 200 && res.status < 300,
    statusText: res.statusMessage,
    headers: { get: (name) => fields[name.toLowerCase()] ?? null },
    bytes,
    text: () => bytes.toString('utf8'),
    json: () => {
      try {
        return JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new KsBundleError('HTTP', `${redactUrl(url)}: the answer is not JSON (${res.headers['content-type'] ?? 'no Content-Type'})`);
      }
    },
  };
}
