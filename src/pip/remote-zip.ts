/**
 * A wheel still upstream, read as a zip through HTTP Range requests: the tail first (its answer also gives the
 * wheel's size), then the central directory and the one member wanted when they are not in that tail. What `plan`
 * learns from a wheel without downloading it (its METADATA, its size).
 */
import { HttpError, KsBundleError, redactUrl } from '../errors.js';
import type { HttpClient } from '../net/client.js';
import { RetriableError } from '../net/retry.js';
import { RETRIABLE_STATUS } from '../net/retry-policy.js';
import type { Limiter } from '../util/concurrency.js';
import type { ByteSource } from './zip.js';

/** The server answered a Range request with the whole file: it does not do ranges. */
export class NoRangeSupport extends Error {}

/** Enough for the end record and, for most wheels, the central directory and the .dist-info files before it. */
const FIRST_TAIL = 16 << 10;
/** No single range asked for here is larger (the zip reader refuses larger members anyway). */
const MAX_RANGE = 16 << 20;

interface Piece {
  start: number;
  total: number;
  bytes: Buffer;
}

/** Parse `bytes START-END/TOTAL`. Pure. */
export function parseContentRange(value: string | undefined): { start: number; end: number; total: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec((value ?? '').trim());
  if (!m) return undefined;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return start <= end && end < total ? { start, end, total } : undefined;
}

async function rangeGet(http: HttpClient, requests: Limiter, url: string, range: string, what: string): Promise<Piece> {
  const label = `${what} (${redactUrl(url)})`;
  return requests.run(() =>
    http.retrying(label, async () => {
      const res = await http.open(url, { range, 'accept-encoding': 'identity' });
      if (res.status === 200) {
        res.discard();
        throw new NoRangeSupport(`${label}: the server does not answer Range requests`);
      }
      if (res.status !== 206) {
        res.discard();
        if (RETRIABLE_STATUS.has(res.status)) throw new RetriableError(`${label}: HTTP ${res.status}`);
        throw new HttpError(url, res.status, res.statusMessage, { hint: `while reading ${what}` });
      }
      const r = parseContentRange(res.headers['content-range']);
      if (!r || r.end - r.start + 1 > MAX_RANGE) {
        res.discard();
        throw new KsBundleError('HTTP', `${label}: a partial answer without a usable Content-Range (${res.headers['content-range'] ?? 'none'})`);
      }
      const expected = r.end - r.start + 1;
      const chunks: Buffer[] = [];
      let n = 0;
      await res.body((chunk) => {
        n += chunk.length;
        if (n > expected) throw new KsBundleError('HTTP', `${label}: more bytes than its Content-Range says`);
        chunks.push(Buffer.from(chunk));
        return undefined;
      });
      if (n !== expected) throw new KsBundleError('HTTP', `${label}: ${n} bytes, its Content-Range says ${expected}`);
      return { start: r.start, total: r.total, bytes: Buffer.concat(chunks, n) };
    }),
  );
}

/** The wheel at `url` as a ByteSource; every read is served from what was fetched when it can be. */
export async function openRemoteZip(http: HttpClient, requests: Limiter, url: string, what: string): Promise<ByteSource> {
  const pieces = [await rangeGet(http, requests, url, `bytes=-${FIRST_TAIL}`, what)];
  return {
    size: pieces[0]!.total,
    async read(position, length) {
      for (const p of pieces) {
        if (position >= p.start && position + length <= p.start + p.bytes.length) return p.bytes.subarray(position - p.start, position - p.start + length);
      }
      const got = await rangeGet(http, requests, url, `bytes=${position}-${position + length - 1}`, what);
      if (got.start !== position || got.bytes.length !== length) throw new KsBundleError('HTTP', `${what} (${redactUrl(url)}): the server answered another range than asked`);
      pieces.push(got);
      return got.bytes;
    },
  };
}
