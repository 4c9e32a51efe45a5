import { createReadStream } from 'node:fs';
import { HttpError, InputError, IntegrityError, KsBundleError } from '../errors.js';
import type { HttpClient, HttpResponse } from '../net/client.js';
import { RetriableError } from '../net/retry.js';
import { readCaFile, type TlsTrust } from '../net/tls.js';
import { RETRIABLE_STATUS } from '../net/retry-policy.js';
import { sha256OfString } from '../store/hashing.js';
import { RegistryAuth } from './auth.js';
import type { CredentialLookup } from './credentials.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST } from './media.js';
import { DOCKER_HUB } from './reference.js';
import { describeRegistryErrors, parseRegistryErrors, reasonOfRegistryErrors } from './registry-errors.js';

export interface RegistrySettingsLike {
  insecure?: boolean;
  /** PEM file of a private CA, trusted for this registry's hosts besides the system CAs. */
  ca?: string;
  /** Pull this registry's images from another host (a pull-through cache or a copy of it): `host[:port]`. */
  endpoint?: string;
}

/** The base URL that serves `registry`'s /v2/ API. Docker Hub's API lives at registry-1.docker.io. */
export function baseUrlFor(registry: string, settings: Record<string, RegistrySettingsLike> = {}): string {
  const host = apiHost(registry, settings);
  const insecure = settings[registry]?.insecure ?? settings[host]?.insecure ?? false;
  return `${insecure ? 'http' : 'https'}://${host}`;
}

function apiHost(registry: string, settings: Record<string, RegistrySettingsLike>): string {
  return settings[registry]?.endpoint ?? (registry === DOCKER_HUB ? 'registry-1.docker.io' : registry);
}

/** The `ca` that applies to `registry`, found as `insecure` is (its own, else its API host's), and the key naming it. */
export function caFor(registry: string, settings: Record<string, RegistrySettingsLike> = {}): { key: string; file: string } | undefined {
  const key = [registry, apiHost(registry, settings)].find((k) => settings[k]?.ca);
  return key ? { key, file: settings[key]!.ca! } : undefined;
}

/**
 * TLS trust for a registry's `hosts` (the first one names it): the CA file `ca` besides the system CAs, or the
 * default trust with a hint that says where a private CA would go. `caLabel` is that place (`--ca`, a manifest key).
 */
export async function registryTrust(hosts: string[], ca: string | undefined, caLabel: string): Promise<TlsTrust> {
  const host = hosts[0];
  if (!ca) return { hosts, hint: `If ${host} uses a private CA, give that CA's PEM file as ${caLabel}.` };
  const pem = await readCaFile(ca).catch((err: Error) => {
    throw new InputError(`${caLabel} of registry ${host}: ${err.message}`, { hint: 'Give the PEM file of the CA that signed the registry\'s certificate.' });
  });
  return { hosts, ca: pem, hint: `Neither the CA in ${ca} (${caLabel}) nor one this machine trusts signed this certificate: is it the CA of ${host}?` };
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  /** sha256 of the bytes, computed here. */
  digest: string;
}

/**
 * One registry, spoken to with the OCI distribution API. Every request goes through `send`, which answers a 401
 * once by (re)authorising with the registry's challenge.
 */
export class RegistryClient {
  readonly auth: RegistryAuth;

  constructor(
    /** The name users give the registry (`docker.io`); for messages and credentials. */
    readonly registry: string,
    readonly base: string,
    credentials: CredentialLookup,
    readonly http: HttpClient,
    /** A private CA for the registry's hosts. */
    readonly tls?: TlsTrust,
  ) {
    const host = new URL(base).host;
    this.auth = new RegistryAuth(registry, credentials(host) ?? credentials(registry), http, tls);
  }

  url(repo: string, tail: string): string {
    return `${this.base}/v2/${repo}/${tail}`;
  }

  async send(url: string, scope: string, what: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer; accept?: (s: number) => boolean; once?: boolean; maxBytes?: number } = {}): Promise<HttpResponse> {
    const accept = opts.accept ?? (() => false);
    for (let attempt = 0; ; attempt++) {
      const auth = await this.auth.headers(scope);
      const headers = { ...auth, ...opts.headers };
      const res = await this.http.request(url, { method: opts.method, headers, body: opts.body, what, tls: this.tls, once: opts.once, maxBytes: opts.maxBytes, accept: (s) => s === 401 || accept(s) });
      if (res.status !== 401 || accept(401)) return res;
      if (attempt > 0 || !this.auth.onUnauthorized(res.headers.get('www-authenticate'), scope, auth.authorization)) {
        const said = this.auth.hasCredential() ? `the credentials for registry ${this.registry} were rejected` : `no credentials for registry ${this.registry} were given`;
        throw refusal(url, res, said, this.auth.hasCredential()
          ? `The credentials for ${this.registry} were rejected (while fetching ${what}).`
          : `${this.registry} needs credentials (for ${what}): --registry-auth FILE, ~/.docker/config.json or KS_BUNDLE_REGISTRY_AUTH_<HOST>=user:password. ` +
            'Some registries (Docker Hub among them) answer so for a repository that does not exist, too: if it is gone, add an alternate source under spec.alternates.');
      }
    }
  }

  /** GET a manifest by tag or digest, bounded in size; the digest is computed from the bytes. */
  async getManifest(repo: string, reference: string, what: string): Promise<FetchedManifest> {
    const url = this.url(repo, `manifests/${reference}`);
    const res = await this.send(url, pullScope(repo), what, { headers: { accept: MANIFEST_ACCEPT }, maxBytes: MAX_MANIFEST, accept: isRefusal });
    if (!res.ok) throw refusal(url, res, '', `while fetching ${what}`);
    const bytes = res.bytes;
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const digest = 'sha256:' + sha256OfString(bytes);
    const claimed = res.headers.get('docker-content-digest');
    if (claimed && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new IntegrityError(`${what}: the registry says ${claimed} but the manifest it sent hashes to ${digest}`);
    }
    return { bytes, mediaType, digest };
  }

  /** The digest the registry has for a manifest reference, or undefined when it has none. */
  async headManifest(repo: string, reference: string, scope: string, what: string): Promise<string | undefined> {
    const res = await this.send(this.url(repo, `manifests/${reference}`), scope, what, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT }, accept: (s) => s === 404 });
    return res.status === 404 ? undefined : (res.headers.get('docker-content-digest') ?? undefined);
  }

  async hasBlob(repo: string, digest: string, scope: string, what: string): Promise<boolean> {
    const res = await this.send(this.url(repo, `blobs/${digest}`), scope, what, { method: 'HEAD', accept: (s) => s === 404 });
    return res.status !== 404;
  }

  /** Cross-repository mount; true when the registry linked the blob without an upload. */
  async mountBlob(repo: string, digest: string, from: string, what: string): Promise<boolean> {
    const url = this.url(repo, `blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`);
    // The token must grant pull on the source repository as well; a registry that will not mount gets an upload.
    const scope = `${pushScope(repo)} ${pullScope(from)}`;
    const res = await this.send(url, scope, what, { method: 'POST', accept: (s) => s === 202 || s === 201 || s === 401 || s === 403 || s === 404 });
    if (res.status === 201) return true;
    if (res.status !== 202) return false;
    // 202: the registry opened an upload session instead; cancel it so it does not linger.
    const loc = res.headers.get('location');
    if (loc) {
      await this.send(new URL(loc, this.base).toString(), pushScope(repo), what, { method: 'DELETE', accept: () => true }).catch(() => undefined);
    }
    return false;
  }

  /**
   * Monolithic upload: POST for a session, then one PUT streaming the file with its digest (and a Content-Length:
   * some registries refuse a chunked body). A session that failed is not reused: the pair is retried together.
   */
  async uploadBlob(repo: string, digest: string, size: number, file: string, what: string, onRetry?: (attempt: number, reason: string) => void): Promise<void> {
    await this.http.retrying(what, () => this.uploadOnce(repo, digest, size, file, what), onRetry);
  }

  private async uploadOnce(repo: string, digest: string, size: number, file: string, what: string): Promise<void> {
    const scope = pushScope(repo);
    const start = await this.send(this.url(repo, 'blobs/uploads/'), scope, what, { method: 'POST', accept: (s) => s === 202, once: true });
    const loc = start.headers.get('location');
    if (!loc) throw new KsBundleError('HTTP', `${what}: the registry opened an upload without a Location`);
    const put = new URL(loc, this.base);
    put.searchParams.set('digest', digest);
    const headers = { ...(await this.auth.headers(scope)), 'content-type': 'application/octet-stream', 'content-length': String(size) };
    const res = await this.http.request(put.toString(), { method: 'PUT', headers, body: () => createReadStream(file, { highWaterMark: 1 << 20 }), tls: this.tls, once: true, accept: () => true, what });
    const status = res.status;
    if (status === 201 || status === 204) return;
    if (RETRIABLE_STATUS.has(status)) throw new RetriableError(`${what}: HTTP ${status}`);
    throw new HttpError(put.toString().split('?')[0]!, status, '', { hint: `while uploading ${what}` });
  }

  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string, what: string): Promise<void> {
    await this.send(this.url(repo, `manifests/${reference}`), pushScope(repo), what, { method: 'PUT', headers: { 'content-type': mediaType }, body: bytes });
  }
}

/**
 * A final 4xx other than 401 (which `send` answers by authorising): read, so that the error carries the registry's
 * own code. Statuses worth another try are left to the HTTP client's retries.
 */
const isRefusal = (status: number) => status >= 400 && status < 500 && status !== 401 && !RETRIABLE_STATUS.has(status);

/**
 * A registry's refusal as an HttpError whose message carries the registry's error codes (`HTTP 404 Not Found
 * (MANIFEST_UNKNOWN: manifest unknown)`) and our `note` on it, and whose reason follows the codes when they say more
 * than the status (a 401 that says NAME_UNKNOWN is a name that is gone).
 */
function refusal(url: string, res: HttpResponse, note: string, hint: string): HttpError {
  const items = parseRegistryErrors(res.bytes);
  const said = describeRegistryErrors(items);
  const reason = reasonOfRegistryErrors(items);
  return new HttpError(url, res.status, `${res.statusText}${said ? ` (${said})` : ''}${note ? `: ${note}` : ''}`, { hint, ...(reason ? { reason } : {}) });
}

export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}
export function pushScope(repo: string): string {
  return `repository:${repo}:pull,push`;
}
