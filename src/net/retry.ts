import pRetry, { AbortError } from 'p-retry';
import { setTimeout as sleep } from 'node:timers/promises';
import { KsBundleError } from '../errors.js';
import { NetworkFailure } from './network-error.js';
import { isRetriableNetworkError } from './retry-policy.js';

export interface RetryOptions {
  /** Further tries after the first. */
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { retries: 5, minTimeoutMs: 250, maxTimeoutMs: 10_000 };

/** Thrown inside an attempt when the attempt may be repeated (a 5xx, a 429, a range answer that does not fit). */
export class RetriableError extends Error {
  constructor(
    message: string,
    readonly waitMs?: number,
    /** The failure to report if this was the last try. */
    readonly failure?: NetworkFailure,
  ) {
    super(message);
  }
}

/**
 * Run `attempt` with p-retry: network resets, timeouts, 5xx and 429 are retried with backoff and a bound; a
 * Retry-After the server sent is waited out first. A KsBundleError is final. After the last try the error names
 * what was being fetched and what it got.
 */
export async function withRetry<T>(
  label: string,
  attempt: (n: number) => Promise<T>,
  policy: RetryOptions,
  signal: AbortSignal | undefined,
  onRetry?: (attempt: number, reason: string) => void,
): Promise<T> {
  const retries = policy.retries ?? DEFAULT_RETRY.retries;
  return pRetry(
    async (n) => {
      try {
        return await attempt(n);
      } catch (err) {
        if (err instanceof RetriableError) {
          if (err.waitMs) await sleep(err.waitMs, undefined, { signal });
          throw err;
        }
        if (err instanceof NetworkFailure && err.retriable && !signal?.aborted) throw new RetriableError(err.message, undefined, err);
        if (err instanceof KsBundleError || !isRetriableNetworkError(err) || signal?.aborted) throw new AbortError(err as Error);
        throw new RetriableError(`${label}: ${describeNetworkError(err)}`);
      }
    },
    {
      retries,
      minTimeout: policy.minTimeoutMs ?? DEFAULT_RETRY.minTimeoutMs,
      maxTimeout: policy.maxTimeoutMs ?? DEFAULT_RETRY.maxTimeoutMs,
      randomize: true,
      signal,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0) onRetry?.(attemptNumber, error.message);
      },
    },
  ).catch((err: unknown) => {
    if (err instanceof RetriableError) {
      if (err.failure) throw new NetworkFailure(`${err.message} (gave up after ${retries + 1} tries)`, false, err.failure.cause);
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
