import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError, KsBundleError } from '../errors.js';
import { RetriableError, withRetry, type RetryOptions } from '../net/http.js';
import { RETRIABLE_STATUS, parseRetryAfter } from '../net/retry-policy.js';
import { noProgress, type OnProgress } from '../progress/events.js';
import { checkExpected, type ContentStore } from '../store/content-store.js';
import { hashFile, newSha256 } from '../store/hashing.js';

/**
 * A registry blob into the content store: the same contract as net/download.ts (cache hit = no request; Range
 * resume from the partial file; sha256 and size checked in the same pass before the blob gets its name; 429/5xx
 * and resets retried with Retry-After honoured; Authorization dropped on a redirect to another host), but on
 * node:http instead of fetch: undici's web-stream bodies cap a download at ~200 MB/s on these machines, node:http
 * streams several times faster, and layers are most of a bundle's bytes.
 */
export interface BlobSpec {
  url: string;
  sha256: string;
  size: number;
  what: string;
  headers: () => Promise<Record<string, string>>;
}

export interface BlobFetchOptions extends RetryOptions {
  store: ContentStore;
  onProgress?: OnProgress;
  id?: string;
}

export async function fetchBlobToStore(spec: BlobSpec, opts: BlobFetchOptions): Promise<{ path: string; cached: boolean }> {
  const { store } = opts;
  const onProgress = opts.onProgress ?? noProgress;
  const id = opts.id ?? spec.what;
  const have = await store.has(spec.sha256, spec.size);
  if (have) {
    onProgress({ type: 'done', id, bytes: have.size, cached: true });
    return { path: have.path, cached: true };
  }
  const partial = store.partialPathOf(spec.sha256);
  await mkdir(dirname(partial), { recursive: true });
  onProgress({ type: 'start', id, label: spec.what, total: spec.size });
  const onRetry = (n: number, reason: string) => {
    opts.onRetry?.(n, reason);
    onProgress({ type: 'retry', id, attempt: n, reason });
  };
  const actual = await withRetry(
    spec.what,
    async () => {
      let offset = await sizeOf(partial);
      if (offset >= spec.size) {
        await rm(partial, { force: true });
        offset = 0;
      }
      const headers = { ...(await spec.headers()), ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) };
      const res = await get(spec.url, headers, opts.signal);
      const status = res.statusCode ?? 0;
      const resumed = status === 206 && offset > 0 && (res.headers['content-range'] ?? '').startsWith(`bytes ${offset}-`);
      if (status !== 200 && !resumed) {
        res.resume();
        if (status === 206 || status === 416) {
          await rm(partial, { force: true });
          throw new RetriableError(`${spec.what}: the range answer does not fit the partial file, restarting`);
        }
        if (RETRIABLE_STATUS.has(status)) throw new RetriableError(`${spec.what}: HTTP ${status}`, parseRetryAfter(res.headers['retry-after'] as string | undefined));
        throw new HttpError(spec.url, status, res.statusMessage ?? '', { hint: `while fetching ${spec.what}` });
      }
      const hash = newSha256();
      let size = 0;
      if (resumed) size = (await hashFile(partial, hash)).size;
      onProgress({ type: 'advance', id, bytes: size, total: spec.size });
      await pipeline(
        res,
        new Transform({
          transform(chunk: Buffer, _e, cb) {
            hash.update(chunk);
            size += chunk.length;
            // A registry sending more than the descriptor says is wrong; stop before filling the disk.
            if (size > spec.size) return cb(new KsBundleError('INTEGRITY', `${spec.what}: more than the ${spec.size} bytes its descriptor says`));
            onProgress({ type: 'advance', id, bytes: size, total: spec.size });
            cb(null, chunk);
          },
        }),
        createWriteStream(partial, { flags: resumed ? 'a' : 'w', highWaterMark: 1 << 20 }),
      );
      const got = { sha256: hash.digest('hex'), size };
      try {
        checkExpected(got, { sha256: spec.sha256, size: spec.size }, `${spec.what} (${spec.url})`);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      return got;
    },
    { ...opts, onRetry },
  ).catch(async (err) => {
    if (err instanceof KsBundleError && err.code === 'INTEGRITY') await rm(partial, { force: true });
    throw err;
  });
  const stored = await store.commit(partial, actual, {}, spec.what);
  onProgress({ type: 'done', id, bytes: stored.size, cached: false });
  return { path: stored.path, cached: false };
}

/** GET following redirects by hand; Authorization never travels to another host. */
async function get(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> {
  let current = new URL(url);
  const origin = current.host;
  let h = headers;
  for (let hop = 0; hop <= 5; hop++) {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const send = current.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(current, { method: 'GET', headers: h, signal }, resolve);
      req.on('error', reject);
      req.end();
    });
    const location = res.headers.location;
    if (!location || (res.statusCode ?? 0) < 300 || (res.statusCode ?? 0) >= 400) return res;
    res.resume();
    current = new URL(location, current);
    if (current.host !== origin) h = Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== 'authorization'));
  }
  throw new KsBundleError('HTTP', `${url}: too many redirects`);
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
