import { createHttpClient, type HttpClient, type HttpClientOptions } from '../../src/net/client.js';
import type { RetryOptions } from '../../src/net/retry.js';

/** An HTTP client as a command makes one, with a quick retry policy for tests; no proxy unless given. */
export function testHttp(retry: RetryOptions = { retries: 3, minTimeoutMs: 10, maxTimeoutMs: 200 }, more: Partial<HttpClientOptions> = {}): HttpClient {
  return createHttpClient({ idleMs: 60_000, retry, ...more });
}
