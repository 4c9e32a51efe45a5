import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { KsBundleError, redactUrl } from '../errors.js';

/**
 * A streaming GET on node:http, following redirects by hand so Authorization never travels to another host
 * (registries redirect blobs to object storage). Bulk bodies use this rather than fetch: undici's web-stream bodies
 * cap a download at ~200 MB/s on these machines, node:http streams several times faster.
 */
export async function httpGet(url: string, headers: Record<string, string>, signal?: AbortSignal, maxRedirects = 5): Promise<IncomingMessage> {
  let current = new URL(url);
  const origin = current.host;
  let h = headers;
  for (let hop = 0; hop <= maxRedirects; hop++) {
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
  throw new KsBundleError('HTTP', `${redactUrl(url)}: too many redirects`);
}
