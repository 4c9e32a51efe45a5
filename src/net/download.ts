import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HttpError, IntegrityError, KsBundleError, redactUrl } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { ContentStore, checkExpected, type StoredBlob } from '../store/content-store.js';
import { parseIntegrity, sha256OfString } from '../store/hashing.js';
import type { HeaderMap, HttpClient } from './client.js';
import { httpRefusalHint } from './network-error.js';
import { RetriableError } from './retry.js';
import { RETRIABLE_STATUS, parseRetryAfter } from './retry-policy.js';
import type { TlsTrust } from './tls.js';

export interface DownloadSpec {
  url: string;
  /** Expected digest; when given, a cached blob is used without touching the network. */
  sha256?: string;
  size?: number;
  /** What the user calls this artifact, for progress and errors. */
  what: string;
  /** Also check a Subresource Integrity value (`sha512-…`) in the same pass. */
  integrity?: string;
  headers?: HeaderMap | (() => Promise<HeaderMap>);
  /** A private CA for some hosts (a registry's `ca`). */
  tls?: TlsTrust;
  /**
   * The lock names this URL as the source (a pinned file): a cached blob counts only if it came from this URL, so a
   * changed URL is fetched and verified once. Content-addressed kinds (layers, debs, wheels) share blobs across URLs.
   */
  sourceMustMatch?: boolean;
}

export interface DownloadOptions {
  store: ContentStore;
  /** Cancels this download only; the client's signal cancels every one. */
  signal?: AbortSignal;
  onRetry?: (attempt: number, reason: string) => void;
  onProgress?: OnProgress;
  /** Progress id; defaults to the artifact label. */
  id?: string;
}

export interface DownloadResult extends StoredBlob {
  cached: boolean;
  /** Body bytes that crossed the network in this call (resume makes it less than size). */
  transferred: number;
}

/**
 * Download → hash → disk in one pass, into the content store: files, debs, wheels, layers alike. An interrupted
 * transfer resumes from the partial file with a Range request; 429/5xx and resets are retried (Retry-After
 * honoured); the digest and size are checked before the blob gets its name, and a wrong partial is deleted.
 */
export async function downloadToStore(client: HttpClient, spec: DownloadSpec, opts: DownloadOptions): Promise<DownloadResult> {
  const key = spec.sha256 ?? 'url-' + sha256OfString(spec.url);
  // Two artifacts with one digest share the partial file: one download, and the other finds the blob.
  return opts.store.exclusive(key, () => download(client, spec, opts, key));
}

async function download(client: HttpClient, spec: DownloadSpec, opts: DownloadOptions, key: string): Promise<DownloadResult> {
  const { store } = opts;
  const onProgress = opts.onProgress ?? noProgress;
  const id = opts.id ?? spec.what;
  const shown = redactUrl(spec.url);
  if (spec.sha256) {
    const have = await store.has(spec.sha256, spec.size, spec.sourceMustMatch ? spec.url : undefined);
    if (have) {
      onProgress({ type: 'done', id, bytes: have.size, cached: true });
      return { ...have, cached: true, transferred: 0 };
    }
  }
  const partial = store.partialPathOf(key);
  await mkdir(dirname(partial), { recursive: true });
  const sri = spec.integrity ? parseIntegrity(spec.integrity) : undefined;
  let transferred = 0;
  onProgress({ type: 'start', id, label: spec.what, total: spec.size });
  const onRetry = (n: number, reason: string) => {
    opts.onRetry?.(n, reason);
    onProgress({ type: 'retry', id, attempt: n, reason });
  };

  const signal = opts.signal ?? client.signal;
  const actual = await client.retrying(
    spec.what,
    async () => {
      let offset = await sizeOf(partial);
      if (spec.size !== undefined && offset >= spec.size) {
        await rm(partial, { force: true });
        offset = 0;
      }
      const base = typeof spec.headers === 'function' ? await spec.headers() : (spec.headers ?? {});
      const res = await client.open(spec.url, { ...base, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) }, spec.tls, signal);
      const status = res.status;
      const resumed = status === 206 && offset > 0 && String(res.headers['content-range'] ?? '').startsWith(`bytes ${offset}-`);
      if (status !== 200 && !resumed) {
        res.discard();
        if (status === 206 || status === 416) {
          await rm(partial, { force: true });
          throw new RetriableError(`${spec.what}: the range answer does not fit the partial file, restarting`);
        }
        if (RETRIABLE_STATUS.has(status)) throw new RetriableError(`${spec.what}: HTTP ${status}`, parseRetryAfter(res.headers['retry-after']));
        throw new HttpError(spec.url, status, res.statusMessage, { hint: httpRefusalHint(status, spec.what) });
      }
      const algorithms = sri ? ['sha256', sri.algorithm] : ['sha256'];
      const out = client.sink().openFile(partial, { append: resumed, algorithms, encodings: ['hex', 'base64'] });
      let size = resumed ? offset : 0;
      const length = Number(res.headers['content-length']);
      const total = spec.size ?? (Number.isFinite(length) && length > 0 ? length + size : undefined);
      onProgress({ type: 'advance', id, bytes: size, total });
      let reported = size;
      let failed: unknown;
      try {
        await res.body((chunk) => {
          size += chunk.length;
          transferred += chunk.length;
          // More than the index promised is wrong: stop before filling the disk.
          if (spec.size !== undefined && size > spec.size) throw new IntegrityError(`${spec.what} (${shown}): more than the ${spec.size} bytes its index says`);
          // TLS hands over 16 KiB records: one event per MiB is plenty for a bar or a log.
          if (size - reported >= 1 << 20) {
            reported = size;
            onProgress({ type: 'advance', id, bytes: size, total });
          }
          return out.write(chunk);
        });
      } catch (err) {
        failed = err;
      }
      // Closed either way: what arrived before a reset stays in the partial file for the Range resume.
      const written = await out.close();
      if (failed) throw failed;
      if (written.size !== size) throw new KsBundleError('FAILED', `${spec.what}: ${written.size} bytes written of ${size} received`);
      const got = { sha256: written.digests[0]!, size };
      checkExpected(got, { sha256: spec.sha256, size: spec.size }, `${spec.what} (${shown})`);
      const sriGot = written.digests[1];
      if (sri && sriGot !== sri.digest) {
        throw new IntegrityError(`${spec.what} (${shown}): ${sri.algorithm} ${sriGot}, expected ${sri.digest}`, {
          hint: 'The download does not match its published integrity value; nothing was stored.',
        });
      }
      return got;
    },
    onRetry,
    signal,
  ).catch(async (err) => {
    // A wrong partial must not poison the next try or the next run.
    if (err instanceof KsBundleError && err.code === 'INTEGRITY') await rm(partial, { force: true });
    throw err;
  });
  const stored = await store.commit(partial, actual, {}, spec.what, spec.sourceMustMatch ? spec.url : undefined);
  onProgress({ type: 'done', id, bytes: stored.size, cached: false });
  return { ...stored, cached: false, transferred };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
