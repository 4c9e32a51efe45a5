/** Which failures are worth another try, and how long a server asked us to wait. Pure. */

export const RETRIABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

const RETRIABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC',
]);

/** Network-level errors (resets, timeouts, a body cut short) are retried; everything else is not. */
export function isRetriableNetworkError(err: unknown): boolean {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string' && RETRIABLE_CODES.has(e.code)) return true;
    if (e.name === 'TimeoutError') return true;
    if (/socket hang up|Client network socket disconnected/i.test(String(e.message))) return true;
  }
  return false;
}

/**
 * Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns milliseconds, capped so a
 * hostile or confused server cannot park a build for hours.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now(), capMs = 120_000): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, capMs);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), capMs);
}
