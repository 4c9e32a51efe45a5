import { readFileSync } from 'node:fs';
import { createHttpClient, type HttpClient } from '../net/client.js';
import { proxySettingsFrom } from '../net/proxy.js';

/** Seconds of silence before a request counts as stalled (and is retried, resumed with Range). */
const DEFAULT_IDLE_S = 60;

/**
 * The command's HTTP client, with what the environment says: `KS_BUNDLE_IDLE_TIMEOUT` (seconds), the proxy
 * variables (`https_proxy`, `http_proxy`, `no_proxy`, upper case too) and `NODE_EXTRA_CA_CERTS`. The environment is
 * read here, once; everything below gets the settings as arguments.
 */
export function httpClientFromEnv(env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): HttpClient {
  const idle = Number(env.KS_BUNDLE_IDLE_TIMEOUT);
  return createHttpClient({
    idleMs: (Number.isFinite(idle) && idle > 0 ? idle : DEFAULT_IDLE_S) * 1000,
    proxy: proxySettingsFrom(env),
    extraCa: readExtraCa(env.NODE_EXTRA_CA_CERTS),
    signal,
  });
}

/** Node loads this file into its default trust itself (and warns when it cannot); a private CA's list needs it again. */
function readExtraCa(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
