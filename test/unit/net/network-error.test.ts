import { describe, expect, it } from 'vitest';
import { KsBundleError } from '../../../src/errors.js';
import { httpRefusalHint, meaningOf, networkFailure, proxyVariablesShown } from '../../../src/net/network-error.js';
import { totalOfContentRange } from '../../../src/net/probe.js';

/** Errors shaped as Node's net, dns and tls modules raise them. */
const sys = (code: string, message: string) => Object.assign(new Error(message), { code, syscall: 'connect' });

describe('a failure below HTTP, in words', () => {
  it('names the host and port, says why, and shows that no proxy variable is set', () => {
    const err = networkFailure(sys('ENOTFOUND', 'getaddrinfo ENOTFOUND dl.example.org'), new URL('https://dl.example.org/x/y.tgz'), undefined, {});
    expect(err).toBeInstanceOf(KsBundleError);
    expect(err!.code).toBe('NETWORK');
    expect(err!.exitCode).toBe(1);
    expect(err!.reason).toBe('network');
    expect(err!.retriable).toBe(false);
    expect(err!.message).toBe(
      'https://dl.example.org/x/y.tgz: cannot reach dl.example.org:443: the name does not resolve (ENOTFOUND); connecting directly, HTTPS_PROXY, HTTP_PROXY and NO_PROXY are not set',
    );
  });

  it('a refused connection is retriable; through a proxy it names the proxy and the target, credentials removed', () => {
    const settings = { httpsProxy: 'http://bob:hunter2@proxy.corp:3128', noProxy: 'localhost,.internal' };
    const err = networkFailure(sys('ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:3128'), new URL('https://github.com/a/b'), new URL(settings.httpsProxy), settings)!;
    expect(err.retriable).toBe(true);
    expect(err.message).toContain('cannot reach the proxy proxy.corp:3128 (for github.com:443): connection refused');
    expect(err.message).toContain('HTTPS_PROXY=http://***@proxy.corp:3128/, HTTP_PROXY unset, NO_PROXY=localhost,.internal');
    expect(err.message).not.toContain('hunter2');
  });

  it('plain http uses port 80 unless the URL gives one', () => {
    expect(networkFailure(sys('ECONNRESET', 'read ECONNRESET'), new URL('http://mirror.local/debian/'), undefined, {})!.message).toContain('cannot reach mirror.local:80: the connection was reset');
    expect(networkFailure(sys('ETIMEDOUT', 'x'), new URL('http://[::1]:8080/'), undefined, {})!.message).toContain('cannot reach [::1]:8080');
  });

  it('TLS failures are final; a handshake cut short is retried', () => {
    expect(meaningOf(sys('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'))).toMatchObject({ retriable: false, code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
    expect(meaningOf(new Error('Client network socket disconnected before secure TLS connection was established'))).toMatchObject({ retriable: true });
  });

  it('looks through causes, and leaves HTTP answers, bad input and bugs alone', () => {
    expect(meaningOf(Object.assign(new Error('wrapped'), { cause: sys('EHOSTUNREACH', 'x') }))).toMatchObject({ code: 'EHOSTUNREACH', retriable: false });
    expect(meaningOf(new KsBundleError('HTTP', 'x: HTTP 404'))).toBeUndefined();
    expect(meaningOf(new TypeError('undefined is not a function'))).toBeUndefined();
    expect(networkFailure(sys('ENOENT', 'no such file'), new URL('https://a.b/'), undefined, {})).toBeUndefined();
  });

  it('shows each proxy variable set, and only redacted', () => {
    expect(proxyVariablesShown({})).toBe('HTTPS_PROXY, HTTP_PROXY and NO_PROXY are not set');
    expect(proxyVariablesShown({ httpProxy: 'http://u:p@squid:3128' })).toBe('HTTPS_PROXY unset, HTTP_PROXY=http://***@squid:3128/, NO_PROXY unset');
  });
});

describe('what to do about an HTTP refusal', () => {
  it('names the artifact and says what to do for gone, credentials and a failing server', () => {
    expect(httpRefusalHint(404, 'file kubekey.tar.gz')).toMatch(/^while fetching file kubekey.tar.gz: the server has no such file .*spec.alternates/);
    expect(httpRefusalHint(410, undefined)).toMatch(/^the server has no such file/);
    expect(httpRefusalHint(401, 'x')).toContain('credentials');
    expect(httpRefusalHint(403, 'x')).toContain('credentials');
    expect(httpRefusalHint(503, 'x')).toContain('kept failing');
  });
});

describe('Content-Range totals', () => {
  it('reads the total of a one-byte range as servers write it', () => {
    expect(totalOfContentRange('bytes 0-0/1048576')).toBe(1048576);
    expect(totalOfContentRange('bytes 0-0/*')).toBeUndefined();
    expect(totalOfContentRange(undefined)).toBeUndefined();
    expect(totalOfContentRange('items 0-0/5')).toBeUndefined();
  });
});
