/**
 * What a failure below HTTP (DNS, TCP, TLS) means to a user: which host and port could not be reached, why in
 * words, and which proxy variables were in effect, since a proxy that is needed and not set (or set and not needed)
 * is the most common cause on a build machine. Pure: the settings come in as arguments.
 */
import { KsBundleError, redactUrl } from '../errors.js';
import type { ProxySettings } from './proxy.js';

interface Meaning {
  words: string;
  /** Worth another try: the same attempt may work in a moment. */
  retriable: boolean;
}

const MEANINGS: Record<string, Meaning> = {
  ENOTFOUND: { words: 'the name does not resolve', retriable: false },
  EAI_AGAIN: { words: 'DNS could not resolve the name for now', retriable: true },
  EAI_FAIL: { words: 'DNS could not resolve the name', retriable: false },
  EAI_NODATA: { words: 'the name has no address in DNS', retriable: false },
  ECONNREFUSED: { words: 'connection refused (nothing listens on that port)', retriable: true },
  ECONNRESET: { words: 'the connection was reset', retriable: true },
  EPIPE: { words: 'the connection was closed while sending', retriable: true },
  ETIMEDOUT: { words: 'the connection timed out', retriable: true },
  EHOSTUNREACH: { words: 'no route to the host', retriable: false },
  ENETUNREACH: { words: 'the network is unreachable', retriable: false },
  EADDRNOTAVAIL: { words: 'the address is not available', retriable: false },
  ERR_STREAM_PREMATURE_CLOSE: { words: 'the connection closed before the answer was complete', retriable: true },
  ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC: { words: 'the TLS stream was corrupted', retriable: true },
  EPROTO: { words: 'the TLS handshake failed', retriable: false },
};

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_)/;

/** Why the socket failed, in words, and whether a retry may help; undefined when `err` is not a network failure. */
export function meaningOf(err: unknown): (Meaning & { code: string }) | undefined {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (e instanceof KsBundleError) return undefined;
    const code = typeof e.code === 'string' ? e.code : undefined;
    // A proxy's answer to CONNECT, made retriable: its own words say more than the code.
    if (code && MEANINGS[code] && e.cause instanceof KsBundleError) return { ...MEANINGS[code]!, words: e.cause.message, code };
    if (code && MEANINGS[code]) return { ...MEANINGS[code]!, code };
    if (code && TLS_CODE.test(code)) return { words: `the TLS handshake failed (${String(e.message ?? '').slice(0, 160)})`, retriable: false, code };
    if (e.name === 'TimeoutError') return { words: String(e.message || 'no data for too long'), retriable: true, code: 'TIMEOUT' };
    if (/Client network socket disconnected before secure TLS connection/i.test(String(e.message))) return { words: 'the connection closed during the TLS handshake', retriable: true, code: 'ECONNRESET' };
  }
  return undefined;
}

/** The proxy variables as they are set, values redacted: `HTTPS_PROXY=http://***@proxy:3128, HTTP_PROXY unset, NO_PROXY=localhost`. */
export function proxyVariablesShown(settings: ProxySettings): string {
  const vars: Array<[string, string | undefined]> = [
    ['HTTPS_PROXY', settings.httpsProxy],
    ['HTTP_PROXY', settings.httpProxy],
    ['NO_PROXY', settings.noProxy],
  ];
  if (vars.every(([, v]) => !v)) return 'HTTPS_PROXY, HTTP_PROXY and NO_PROXY are not set';
  return vars.map(([k, v]) => (v ? `${k}=${redactUrl(v)}` : `${k} unset`)).join(', ');
}

/** A failure to reach a host, after any retries: exit 1, reason `network`. */
export class NetworkFailure extends KsBundleError {
  readonly retriable: boolean;
  constructor(message: string, retriable: boolean, cause: unknown) {
    super('NETWORK', message, {
      cause,
      reason: 'network',
      hint: 'Check that this machine reaches that host (DNS, firewall), and the proxy variables: HTTPS_PROXY for https, HTTP_PROXY for http, NO_PROXY for hosts reached directly.',
    });
    this.retriable = retriable;
  }
}

/**
 * A NetworkFailure naming the URL, the host and port (or the proxy, when the request went through one) and the
 * proxy variables; undefined when `err` is not a failure of the network (an HTTP answer, a bad input, a bug).
 */
export function networkFailure(err: unknown, url: URL, proxy: URL | undefined, settings: ProxySettings): NetworkFailure | undefined {
  const meaning = meaningOf(err);
  if (!meaning) return undefined;
  const https = url.protocol === 'https:';
  const target = `${url.hostname}:${url.port || (https ? 443 : 80)}`;
  const where = proxy ? `the proxy ${proxy.hostname}:${proxy.port || 80} (for ${target})` : target;
  const how = proxy ? 'through a proxy' : 'directly';
  const code = meaning.words.includes(meaning.code) ? '' : ` (${meaning.code})`;
  return new NetworkFailure(
    `${redactUrl(url.href)}: cannot reach ${where}: ${meaning.words}${code}; connecting ${how}, ${proxyVariablesShown(settings)}`,
    meaning.retriable,
    err,
  );
}

/**
 * The hint of an HTTP refusal of a URL fetch: which artifact, and what to do about a 404/410 (gone), a 401/403
 * (credentials) or a server that kept failing. Pure.
 */
export function httpRefusalHint(status: number, what: string | undefined): string {
  const which = what ? `while fetching ${what}: ` : '';
  if (status === 404 || status === 410) return `${which}the server has no such file (any more). Check the URL, or add an alternate source for it under spec.alternates (README, "Gone upstream").`;
  if (status === 401 || status === 403) {
    return `${which}the server wants credentials, or refused the ones given. Put them in the manifest's URL (https://user:password@host/…, or the token parameter the server expects); for a registry use --registry-auth, ~/.docker/config.json or KS_BUNDLE_REGISTRY_AUTH_<HOST>.`;
  }
  if (status === 429 || status >= 500) return `${which}the server kept failing. Try again later, or add an alternate source under spec.alternates.`;
  return `${which}the server refused the request.`;
}
