import { describe, expect, it } from 'vitest';
import { proxyFor, proxySettingsFrom } from '../../../src/net/proxy.js';

describe('proxy variables, read as curl reads them', () => {
  const env = { https_proxy: 'http://user:pw@proxy.corp:3128', HTTP_PROXY: 'proxy.corp:8080', NO_PROXY: 'localhost, .internal.example,10.0.0.7,registry.local:5000' };
  const s = proxySettingsFrom(env);
  const via = (url: string) => proxyFor(new URL(url), s)?.href;

  it('picks the proxy by scheme; a proxy without a scheme is http://', () => {
    expect(via('https://registry-1.docker.io/v2/')).toBe('http://user:pw@proxy.corp:3128/');
    expect(via('http://deb.debian.org/debian/')).toBe('http://proxy.corp:8080/');
  });

  it('lower case wins over upper case', () => {
    expect(proxySettingsFrom({ http_proxy: 'http://a:1', HTTP_PROXY: 'http://b:2' }).httpProxy).toBe('http://a:1');
  });

  it('NO_PROXY matches names, their subdomains, IPs and host:port', () => {
    expect(via('https://localhost/x')).toBeUndefined();
    expect(via('https://harbor.internal.example/v2/')).toBeUndefined();
    expect(via('https://internal.example/v2/')).toBeUndefined();
    expect(via('http://10.0.0.7/x')).toBeUndefined();
    expect(via('https://registry.local:5000/v2/')).toBeUndefined();
    expect(via('https://registry.local/v2/')).toBe('http://user:pw@proxy.corp:3128/');
    expect(via('https://notinternal.example/')).toBe('http://user:pw@proxy.corp:3128/');
    expect(proxyFor(new URL('https://any.where/'), { httpsProxy: 'http://p:1', noProxy: '*' })).toBeUndefined();
  });

  it('no variable, no proxy; an https:// proxy is refused with its name', () => {
    expect(proxyFor(new URL('https://quay.io/'), {})).toBeUndefined();
    expect(() => proxyFor(new URL('https://quay.io/'), { httpsProxy: 'https://p.corp:443' })).toThrow(/https:\/\/p\.corp.*only http:\/\/ proxies/);
  });
});
