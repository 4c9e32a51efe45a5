import { KsBundleError } from '../errors.js';
import type { HttpClient } from '../net/client.js';
import type { TlsTrust } from '../net/tls.js';
import type { Credential } from './credentials.js';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';

/**
 * Authorization for one registry: anonymous, Basic, or the bearer-token flow (a 401 with
 * `WWW-Authenticate: Bearer realm,service,scope` → GET realm?service&scope, with Basic credentials when we have
 * them → a token for that scope). Tokens are cached per scope until shortly before they expire. The credential is
 * only ever put in an Authorization header; no message here contains it.
 */
export class RegistryAuth {
  private challenge?: Challenge;
  private tokens = new Map<string, { header: string; expires: number }>();

  constructor(
    readonly registry: string,
    private readonly credential: Credential | undefined,
    private readonly http: HttpClient,
    /** The registry's private CA; a token service on another host keeps the default trust. */
    private readonly tls?: TlsTrust,
  ) {}

  /** Headers for a request needing `scope` (`repository:library/busybox:pull`). Fetches a token when one is due. */
  async headers(scope: string): Promise<Record<string, string>> {
    const ch = this.challenge;
    if (!ch) return {};
    if (ch.scheme === 'basic') return this.basic() ? { authorization: this.basic()! } : {};
    if (ch.scheme !== 'bearer') return {};
    const cached = this.tokens.get(scope);
    if (cached && cached.expires > Date.now()) return { authorization: cached.header };
    return { authorization: await this.fetchToken(scope) };
  }

  /**
   * A 401 arrived for a request that carried `sent` (its Authorization header, if any): remember the challenge and
   * drop that token, so the next `headers()` gets a new one. Returns false when another try cannot help (the
   * credentials we have were just refused, or there is no challenge we can answer).
   */
  onUnauthorized(wwwAuthenticate: string | null, scope: string, sent: string | undefined): boolean {
    const challenges = parseWwwAuthenticate(wwwAuthenticate ?? '');
    const ch = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!ch) return false;
    this.challenge = ch;
    if (ch.scheme === 'basic') return this.basic() !== undefined && sent !== this.basic();
    const cached = this.tokens.get(scope);
    if (cached && cached.header === sent) this.tokens.delete(scope);
    return true;
  }

  hasCredential(): boolean {
    return this.credential !== undefined;
  }

  private basic(): string | undefined {
    const c = this.credential;
    if (!c?.username) return undefined;
    return 'Basic ' + Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64');
  }

  private async fetchToken(scope: string): Promise<string> {
    const ch = this.challenge!;
    const realm = ch.params.realm;
    if (!realm) throw new KsBundleError('HTTP', `${this.registry}: bearer challenge without a realm`);
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    // Several scopes (a cross-repo mount needs pull on the source too) go as repeated parameters, as docker sends them.
    for (const one of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', one);
    const basic = this.basic();
    const res = await this.http.request(url.toString(), {
      headers: basic ? { authorization: basic } : {},
      what: `token for ${scope} on ${this.registry}`,
      accept: (s) => s === 401 || s === 403,
      tls: this.tls,
    });
    if (!res.ok) {
      const said = this.credential ? `the credentials for registry ${this.registry} were rejected` : `no credentials for registry ${this.registry} were given`;
      throw new KsBundleError('HTTP', `${this.registry}: the token service ${url.origin}${url.pathname} refused ${scope} (HTTP ${res.status}): ${said}`, {
        reason: 'unauthorized',
        hint: this.credential
          ? 'The credentials for this registry were rejected; check --registry-auth, ~/.docker/config.json or KS_BUNDLE_REGISTRY_AUTH_<HOST>.'
          : 'This registry needs credentials: give them with --registry-auth FILE, ~/.docker/config.json or KS_BUNDLE_REGISTRY_AUTH_<HOST>=user:password.',
      });
    }
    const body = res.json() as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new KsBundleError('HTTP', `${this.registry}: the token service answered without a token`);
    // The spec's default lifetime is 60 s; renew 15 s early so a long blob never starts with a dying token.
    const lifetime = Math.max(30, Number(body.expires_in) || 60);
    const header = `Bearer ${token}`;
    this.tokens.set(scope, { header, expires: Date.now() + (lifetime - 15) * 1000 });
    return header;
  }
}
