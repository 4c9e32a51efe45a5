/**
 * Which proxy a request goes through, from the variables curl, apt and pip read: `https_proxy`/`HTTPS_PROXY` for
 * https URLs, `http_proxy`/`HTTP_PROXY` for http ones, and `no_proxy`/`NO_PROXY` for hosts reached directly. Pure:
 * the CLI reads the environment once and passes the settings down.
 */
import { InputError, redactUrl } from '../errors.js';

export interface ProxySettings {
  httpsProxy?: string;
  httpProxy?: string;
  /** Comma- or space-separated: `*`, host names (a name also covers its subdomains; a leading dot is optional), IPs, `host:port`. */
  noProxy?: string;
}

export function proxySettingsFrom(env: Record<string, string | undefined>): ProxySettings {
  const pick = (name: string) => env[name.toLowerCase()] || env[name] || undefined;
  return { httpsProxy: pick('HTTPS_PROXY'), httpProxy: pick('HTTP_PROXY'), noProxy: pick('NO_PROXY') };
}

/** The proxy for `url`, or undefined for a direct connection. A proxy given without a scheme is taken as http://. */
export function proxyFor(url: URL, settings: ProxySettings): URL | undefined {
  const raw = url.protocol === 'https:' ? settings.httpsProxy : settings.httpProxy;
  if (!raw || bypasses(url, settings.noProxy)) return undefined;
  const proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  if (proxy.protocol !== 'http:') {
    throw new InputError(`proxy ${redactUrl(`${proxy.protocol}//${proxy.host}`)}: only http:// proxies are supported`, { hint: 'Give the proxy as http://host:port in https_proxy/http_proxy (an https request still goes through it encrypted, by CONNECT).' });
  }
  return proxy;
}

function bypasses(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const entry of noProxy.split(/[\s,]+/).filter(Boolean)) {
    if (entry === '*') return true;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.toLowerCase());
    if (!m) continue;
    const name = m[1]!.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (m[2] && m[2] !== port) continue;
    if (host === name || host.endsWith('.' + name)) return true;
  }
  return false;
}
