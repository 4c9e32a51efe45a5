import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { ContentStore, checkExpected, type StoredBlob } from '../store/content-store.js';
import { IntegrityError } from '../errors.js';
import { createHash, hashFile, newSha256, parseIntegrity, sha256OfString } from '../store/hashing.js';
import { RetriableError, request, withRetry, type Headers, type RetryOptions } from './http.js';

export interface DownloadSpec {
  url: string;
  /** Expected digest; when given, a cached blob is used without touching the network. */
  sha256?: string;
  size?: number;
  /** What the user calls this artifact, for progress and errors. */
  what: string;
  /** Also check a Subresource Integrity value (`sha512-…`) in the same pass. */
  integrity?: string;
  headers?: Headers | (() => Promise<Headers>);
}

export interface DownloadOptions extends RetryOptions {
  store: ContentStore;
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
 * Download → hash → disk in one pass, into the content store. An interrupted transfer resumes from the partial
 * file with a Range request; the digest is checked before the blob gets its name.
 */
export async function downloadToStore(spec: DownloadSpec, opts: DownloadOptions): Promise<DownloadResult> {
  const { store } = opts;
  const onProgress = opts.onProgress ?? noProgress;
  const id = opts.id ?? spec.what;
  if (spec.sha256) {
    const have = await store.has(spec.sha256, spec.size);
    if (have) {
      onProgress({ type: 'done', id, bytes: have.size, cached: true });
      return { ...have, cached: true, transferred: 0 };
    }
  }
  const partial = store.partialPathOf(spec.sha256 ?? 'url-' + sha256OfString(spec.url));
  await mkdir(dirname(partial), { recursive: true });
  let transferred = 0;
  onProgress({ type: 'start', id, label: spec.what, total: spec.size });

  const result = await withRetry(
    spec.what,
    async () => {
      const offset = await sizeOf(partial);
      const hash = newSha256();
      const sri = spec.integrity ? parseIntegrity(spec.integrity) : undefined;
      const sriHash = sri ? createHash(sri.algorithm) : undefined;
      if (offset > 0) await hashFile(partial, hash, ...(sriHash ? [sriHash] : []));
      const base = typeof spec.headers === 'function' ? await spec.headers() : (spec.headers ?? {});
      const headers: Headers = offset > 0 ? { ...base, range: `bytes=${offset}-` } : base;
      const res = await request(spec.url, { headers, what: spec.what, signal: opts.signal, retries: opts.retries, minTimeoutMs: opts.minTimeoutMs, maxTimeoutMs: opts.maxTimeoutMs, onRetry: (n, r) => onProgress({ type: 'retry', id, attempt: n, reason: r }), accept: (s) => s === 416 });
      let append = res.status === 206 && offset > 0;
      if (res.status === 416) {
        // The partial file already holds everything (or more than) the server has: start over.
        await res.body?.cancel().catch(() => {});
        await rm(partial, { force: true });
        throw new RetriableError(`${spec.what}: range not satisfiable, restarting`);
      }
      const hashed = append ? hash : newSha256();
      const sriHashed = sri ? (append ? sriHash! : createHash(sri.algorithm)) : undefined;
      let size = append ? offset : 0;
      const total = totalFrom(res, offset, append) ?? spec.size;
      onProgress({ type: 'advance', id, bytes: size, total });
      if (!res.body) throw new RetriableError(`${spec.what}: empty body`);
      try {
        await pipeline(
          Readable.fromWeb(res.body as any, { highWaterMark: 1 << 20 }),
          new Transform({
            transform(chunk: Buffer, _e, cb) {
              hashed.update(chunk);
              sriHashed?.update(chunk);
              size += chunk.length;
              transferred += chunk.length;
              onProgress({ type: 'advance', id, bytes: size, total });
              cb(null, chunk);
            },
          }),
          createWriteStream(partial, { flags: append ? 'a' : 'w' }),
        );
      } catch (err) {
        append = false;
        throw err;
      }
      const actual = { sha256: hashed.digest('hex'), size };
      try {
        checkExpected(actual, { sha256: spec.sha256, size: spec.size }, `${spec.what} (${spec.url})`);
        const got = sriHashed?.digest('base64');
        if (sri && got !== sri.digest) {
          throw new IntegrityError(`${spec.what} (${spec.url}): ${sri.algorithm} ${got}, expected ${sri.digest}`, {
            hint: 'The download does not match its published integrity value; nothing was stored.',
          });
        }
      } catch (err) {
        // A bad partial must not poison the next try or the next run.
        await rm(partial, { force: true });
        throw err;
      }
      return actual;
    },
    { ...opts, onRetry: (n, r) => onProgress({ type: 'retry', id, attempt: n, reason: r }) },
  );
  const stored = await store.commit(partial, result, {}, spec.what);
  onProgress({ type: 'done', id, bytes: stored.size, cached: false });
  return { ...stored, cached: false, transferred };
}

function totalFrom(res: Response, offset: number, append: boolean): number | undefined {
  const len = Number(res.headers.get('content-length'));
  if (!Number.isFinite(len) || len <= 0) return undefined;
  return append ? offset + len : len;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

