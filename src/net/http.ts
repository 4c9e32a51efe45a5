import pRetry, { AbortError } from 'p-retry';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError, KsBundleError, redactUrl } from '../errors.js';
import { RETRIABLE_STATUS, isRetriableNetworkError, parseRetryAfter } from './retry-policy.js';
import { followRedirects, send } from './get.js';
import { agentFor, untrustedCertificate, type TlsTrust } from './tls.js';

export type Headers = Record<string, string>;

export interface RetryOptions {
  /** Further tries after the first. */
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  signal?: AbortSignal;
  onRetry?: (attempt: number, reason: string) => void;
}

export interface RequestOptions extends RetryOptions {
  method?: string;
  headers?: Headers | (() => Promise<Headers>);
  body?: any;
  /** Statuses handed back to the caller instead of thrown (2xx always are). */
  accept?: (status: number) => boolean;
  /** Label for messages: which artifact this request is for. */
  what?: string;
  maxRedirects?: number;
  /** A private CA for some hosts; those hosts are asked over node:https. */
  tls?: TlsTrust;
}

export const DEFAULT_RETRY = { retries: 5, minTimeoutMs: 250, maxTimeoutMs: 10_000 };

/** Thrown inside an attempt when the attempt may be repeated. */
export class RetriableError extends Error {
  constructor(message: string, readonly waitMs?: number) {
    super(message);
  }
}

/**
 * Run `attempt` with p-retry: network resets, timeouts, 5xx and 429 are retried with backoff and a bound;
 * a Retry-After the server sent is waited out first. After the last try the error names the URL and what it got.
 */
export async function withRetry<T>(label: string, attempt: (n: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? DEFAULT_RETRY.retries;
  return pRetry(
    async (n) => {
      try {
        return await attempt(n);
      } catch (err) {
        if (err instanceof RetriableError) {
          if (err.waitMs) await sleep(err.waitMs, undefined, { signal: opts.signal });
          throw err;
        }
        if (err instanceof KsBundleError || !isRetriableNetworkError(err) || opts.signal?.aborted) {
          throw new AbortError(err as Error);
        }
        throw new RetriableError(`${label}: ${describeNetworkError(err)}`);
      }
    },
    {
      retries,
      minTimeout: opts.minTimeoutMs ?? DEFAULT_RETRY.minTimeoutMs,
      maxTimeout: opts.maxTimeoutMs ?? DEFAULT_RETRY.maxTimeoutMs,
      randomize: true,
      signal: opts.signal,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0) opts.onRetry?.(attemptNumber, error.message);
      },
    },
  ).catch((err: unknown) => {
    if (err instanceof RetriableError) {
      throw new KsBundleError('NETWORK', `${err.message} (gave up after ${retries + 1} tries)`, {
        hint: 'Check that the upstream is reachable from this machine, then run the same command again: finished downloads are kept.',
      });
    }
    throw err;
  });
}

export function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  for (let e: any = err, depth = 0; e && depth < 4; e = e.cause, depth++) {
    const text = e.code ? `${e.code}` : e.message;
    if (text && !parts.includes(text)) parts.push(text);
  }
  return parts.join(': ') || String(err);
}

/**
 * One HTTP request with retries. Redirects are followed by hand so that Authorization never travels to another
 * host (registries redirect blob downloads to object storage).
 */
export async function request(url: string, opts: RequestOptions = {}): Promise<Response> {
  const accept = opts.accept ?? (() => false);
  const label = opts.what ? `${opts.what} (${redactUrl(url)})` : redactUrl(url);
  return withRetry(
    label,
    async () => {
      const res = await requestFollowingRedirects(url, opts);
      if (res.ok || accept(res.status)) return res;
      await res.body?.cancel().catch(() => {});
      if (RETRIABLE_STATUS.has(res.status)) {
        throw new RetriableError(`${label}: HTTP ${res.status}`, parseRetryAfter(res.headers.get('retry-after')));
      }
      throw new HttpError(url, res.status, res.statusText, { hint: opts.what ? `while fetching ${opts.what}` : undefined });
    },
    opts,
  );
}

async function requestFollowingRedirects(url: string, opts: RequestOptions): Promise<Response> {
  const headers = typeof opts.headers === 'function' ? await opts.headers() : { ...(opts.headers ?? {}) };
  const method = opts.method ?? 'GET';
  return followRedirects(url, headers, opts.maxRedirects ?? 5, async (u, h) => {
    // fetch cannot take a CA without undici's dispatcher; a host with a private CA is asked over node:https.
    const res = agentFor(u, opts.tls)
      ? toResponse(await send(u, { method, headers: h, body: opts.body, signal: opts.signal, tls: opts.tls }), method)
      : await fetch(u, {
          method,
          headers: h,
          body: opts.body,
          redirect: 'manual',
          signal: opts.signal,
          // @ts-expect-error undici needs this for streamed request bodies
          duplex: opts.body ? 'half' : undefined,
        }).catch((err) => {
          throw untrustedCertificate(u, err, opts.tls) ?? err;
        });
    return { res, status: res.status, location: res.headers.get('location'), discard: () => void res.body?.cancel().catch(() => {}) };
  });
}

/** A node:http answer as a fetch Response, for callers written against fetch. */
function toResponse(res: IncomingMessage, method: string): Response {
  const status = res.statusCode ?? 0;
  const headers = new globalThis.Headers();
  for (const [k, v] of Object.entries(res.headers)) for (const one of [v ?? []].flat()) headers.append(k, one);
  const noBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
  if (noBody) res.resume();
  return new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage, headers });
}
