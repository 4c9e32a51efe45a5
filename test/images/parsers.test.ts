/** Pure parsers on real samples: references as docker normalises them, registries' WWW-Authenticate headers. */
import { describe, expect, it } from 'vitest';
import { envName, parseDockerConfig } from '../../src/images/credentials.js';
import { parseManifest, platformWanted } from '../../src/images/media.js';
import { formatReference, parseReference } from '../../src/images/reference.js';
import { parseV2Path } from '../../src/images/v2-path.js';
import { parseWwwAuthenticate } from '../../src/images/www-authenticate.js';

describe('parseReference (docker/containerd normalisation)', () => {
  const D = 'sha256:' + 'a'.repeat(64);
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['kubesphere/ks-apiserver:v4.1.3', 'docker.io/kubesphere/ks-apiserver:v4.1.3'],
    ['index.docker.io/library/nginx:1', 'docker.io/library/nginx:1'],
    ['quay.io/coreos/etcd:v3.5.0', 'quay.io/coreos/etcd:v3.5.0'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/library/busybox:1.36', '127.0.0.1:5000/library/busybox:1.36'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`ghcr.io/a/b:1.0@${D}`, `ghcr.io/a/b:1.0@${D}`],
  ])('%s → %s', (input, expected) => {
    expect(formatReference(parseReference(input))).toBe(expected);
  });
  it.each(['Busybox', 'busybox:', 'busybox@sha256:abc', 'a//b', 'busybox:-x', '', 'docker.io/../x'])('refuses %j', (input) => {
    expect(() => parseReference(input)).toThrow(/image reference/);
  });
});

describe('parseWwwAuthenticate (headers as registries send them)', () => {
  it('Docker Hub', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"');
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } });
  });
  it('ghcr and quay', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"')[0]!.params.service).toBe('ghcr.io');
    expect(parseWwwAuthenticate('Bearer realm="https://quay.io/v2/auth",service="quay.io"')[0]!.params.realm).toBe('https://quay.io/v2/auth');
  });
  it('distribution with htpasswd, and several challenges', () => {
    expect(parseWwwAuthenticate('Basic realm="test"')).toEqual([{ scheme: 'basic', params: { realm: 'test' } }]);
    const two = parseWwwAuthenticate('Basic realm="x", Bearer realm="https://a/t",scope="repository:a:pull,push"');
    expect(two.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(two[1]!.params.scope).toBe('repository:a:pull,push');
  });
});

describe('credentials', () => {
  it('reads docker config.json auths (base64 auth, username/password, the hub alias)', () => {
    const cfg = JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pass').toString('base64') },
        'harbor.example.com': { username: 'u', password: 'p' },
      },
    });
    const m = parseDockerConfig(cfg, 'config.json');
    expect(m.get('docker.io')).toEqual({ username: 'hubuser', password: 'hub:pass' });
    expect(m.get('harbor.example.com')).toEqual({ username: 'u', password: 'p' });
  });
  it('names the env variable per host', () => {
    expect(envName('127.0.0.1:5000')).toBe('KS_BUNDLE_REGISTRY_AUTH_127_0_0_1_5000');
    expect(envName('docker.io')).toBe('KS_BUNDLE_REGISTRY_AUTH_DOCKER_IO');
  });
  it('a broken file is an input error that does not echo its content', () => {
    expect(() => parseDockerConfig('{"auths": {"x": {"auth": "c2VjcmV0"}', 'cfg.json')).toThrow(/cfg\.json: not valid JSON/);
  });
});

describe('manifests', () => {
  it('an OCI manifest without mediaType takes the header type; schema 1 is refused', () => {
    const m = parseManifest(JSON.stringify({ schemaVersion: 2, config: { digest: 'sha256:' + 'b'.repeat(64), size: 2, mediaType: 'x' }, layers: [] }), 'application/vnd.oci.image.manifest.v1+json');
    expect(m.kind).toBe('image');
    expect(() => parseManifest('{"schemaVersion":1,"fsLayers":[]}')).toThrow(/schema 1/);
  });
  it('keeps linux/amd64 and linux/arm64 variants, drops attestations', () => {
    const want = [{ os: 'linux', arch: 'amd64' }, { os: 'linux', arch: 'arm64' }];
    expect(platformWanted({ os: 'linux', architecture: 'arm64', variant: 'v8' }, want)).toBe(true);
    expect(platformWanted({ os: 'unknown', architecture: 'unknown' }, want)).toBe(false);
    expect(platformWanted({ os: 'linux', architecture: 's390x' }, want)).toBe(false);
  });
});

describe('parseV2Path', () => {
  it('classifies the API', () => {
    expect(parseV2Path('')).toEqual({ kind: 'base' });
    expect(parseV2Path('_catalog')).toEqual({ kind: 'catalog' });
    expect(parseV2Path('library/busybox/tags/list')).toEqual({ kind: 'tags', name: ['library', 'busybox'] });
    expect(parseV2Path('docker.io/library/busybox/manifests/1.36')).toEqual({ kind: 'manifest', name: ['docker.io', 'library', 'busybox'], reference: '1.36' });
    expect(parseV2Path('127.0.0.1:5000/a/blobs/sha256:' + 'c'.repeat(64)).kind).toBe('blob');
    expect(parseV2Path('a/blobs/uploads/')).toEqual({ kind: 'unsupported' });
  });
  it.each(['a/../b/manifests/x', 'a/%2e%2e/manifests/x', 'a//b/manifests/x', 'a/blobs/sha256:../x', 'A/manifests/x', 'a\\b/manifests/x'])('refuses %j', (p) => {
    expect(parseV2Path(p).kind).toBe('invalid');
  });
});
