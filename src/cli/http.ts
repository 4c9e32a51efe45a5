import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { KsBundleError } from '../errors.js';
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

/**
 * Run `work` with the command's HTTP client and a signal that Ctrl-C aborts: requests in flight are aborted, no new
 * one starts, temp files and the work folder are removed, and what finished stays in the cache (a partial download
 * too, for the next run to resume). A second Ctrl-C leaves at once. Whatever an aborted request threw, the user
 * pressed Ctrl-C: that is what is thrown.
 */
export async function withCancellableHttp<T>(work: (http: HttpClient, signal: AbortSignal) => Promise<T>): Promise<T> {
  const cancel = new AbortController();
  // Every request in flight listens to this one signal (with --concurrency 16, sixteen and more at once): that is the
  // design, not a leak, so Node's warning after ten listeners would only alarm the user.
  setMaxListeners(0, cancel.signal);
  const interrupted = (signal: NodeJS.Signals) => {
    if (cancel.signal.aborted) process.exit(130);
    cancel.abort(new KsBundleError('FAILED', `interrupted (${signal})`, { exitCode: 130, hint: 'Run the same command again: finished downloads are kept and a partial one resumes.' }));
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  const http = httpClientFromEnv(process.env, cancel.signal);
  try {
    return await work(http, cancel.signal).catch((err: unknown) => {
      throw cancel.signal.aborted ? cancel.signal.reason : err;
    });
  } finally {
    await http.close();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}
