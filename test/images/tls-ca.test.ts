/**
 * `registries.<host>.ca` end to end with real parts: a throwaway CA and a server certificate for 127.0.0.1 made by
 * openssl, docker-registry serving HTTPS with it (htpasswd auth, so credentials travel over that TLS too), the
 * fixture images pushed with skopeo, then the built CLI: `ks-bundle build` trusting the CA through the manifest,
 * failing without it and with another CA, and `ks-bundle push --ca` into a second TLS registry. Digests are checked
 * against skopeo (verifying TLS with the same CA) and coreutils sha256sum, never against a digest our code made.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';
import { makeCa, makeServerCert } from '../support/tls-certs.js';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { dockerConfig, htpasswd, startRegistry, type Registry } from './support.js';

const CREDS = 'builder:s3cret-pass';
const REFS = ['library/busybox:1.36', 'library/app:1.0'];

let tmp: string;
let upstream: Registry;
let target: Registry | undefined;
let pki: { ca: string; otherCa: string; certDir: string; cert: string; key: string };
let authFile: string;
const digests: Record<string, string> = {};

/** The manifest digest as the registry serves it: `skopeo inspect --raw` verifying TLS with the CA, piped to sha256sum. */
async function upstreamDigest(ref: string): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', ['-o', 'pipefail', '-c', 'skopeo inspect --raw --cert-dir "$1" --creds "$2" "docker://$3" | sha256sum', 'sh', pki.certDir, CREDS, ref]);
  return 'sha256:' + stdout.slice(0, 64);
}

/** A build manifest for the test registry's images; `registries` as the manifest's `spec.registries`. */
function manifest(name: string, registries?: Record<string, { ca: string }>): string {
  const file = join(tmp, `${name}.yaml`);
  const spec = { targets: [{ os: 'debian-12', arch: 'amd64' }], runtime: { source: 'local' }, ...(registries ? { registries } : {}), images: REFS.map((r) => `${upstream.host}/${r}`) };
  writeFileSync(file, dump({ apiVersion: 'ks-bundle/v1', kind: 'BundleManifest', metadata: { name, version: '1.0.0' }, spec }, { lineWidth: -1 }));
  return file;
}

/** The 1-based line of `file` that holds `text`. */
const lineOf = (file: string, text: string) => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;

const build = (m: string, name: string) =>
  runCli(['build', '-m', m, '-o', join(tmp, 'out', `${name}.tar`), '--cache', join(tmp, `cache-${name}`), '--registry-auth', authFile]);

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci', 'htpasswd', 'openssl', 'tar', 'sha256sum', 'bash');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-tls-'));
  const dir = join(tmp, 'pki');
  mkdirSync(dir);
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  const server = makeServerCert(dir, ca);
  // skopeo's --cert-dir: every *.crt in it is a CA to trust.
  const certDir = join(dir, 'skopeo-certs');
  mkdirSync(certDir);
  copyFileSync(ca.cert, join(certDir, 'ca.crt'));
  pki = { ca: ca.cert, otherCa: other.cert, certDir, cert: server.cert, key: server.key };

  upstream = await startRegistry(join(tmp, 'upstream'), { htpasswd: htpasswd(tmp, 'builder', 's3cret-pass') }, { certificate: server.cert, key: server.key });
  const layout = buildFixtureImages(join(tmp, 'fixture'));
  await pushFixture(layout, 'busybox', `${upstream.host}/library/busybox:1.36`, CREDS);
  await pushFixture(layout, 'app', `${upstream.host}/library/app:1.0`, CREDS);
  for (const r of REFS) digests[r] = await upstreamDigest(`${upstream.host}/${r}`);
  authFile = dockerConfig(join(tmp, 'auth.json'), upstream.host, 'builder', 's3cret-pass');
});

afterAll(async () => {
  await upstream?.stop();
  await target?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a registry with a private CA', () => {
  it('the registry really refuses a client that does not trust its CA', async () => {
    await expect(promisify(execFile)('skopeo', ['inspect', '--raw', '--creds', CREDS, `docker://${upstream.host}/${REFS[0]}`])).rejects.toThrow(/certificate/);
  });

  it('build trusts registries.<host>.ca: every image has the digest the upstream serves', async () => {
    const m = manifest('with-ca', { [upstream.host]: { ca: pki.ca } });
    const r = await build(m, 'with-ca');
    expect(r.code, r.stderr).toBe(0);
    const x = join(tmp, 'x-with-ca');
    mkdirSync(x);
    execFileSync('tar', ['-xf', join(tmp, 'out', 'with-ca.tar'), '-C', x]);
    const images = join(x, 'with-ca-1.0.0', 'repos', 'images');
    const index = JSON.parse(readFileSync(join(images, 'index.json'), 'utf8'));
    for (const ref of REFS) {
      const entry = index.manifests.find((e: any) => e.annotations?.['org.opencontainers.image.ref.name'] === `${upstream.host}/${ref}`);
      expect(entry?.digest, `${ref} in ${JSON.stringify(index)}`).toBe(digests[ref]);
      // The bytes in the bundle hash (coreutils) to that digest too.
      expect('sha256:' + sha256sum(join(images, 'blobs', 'sha256', entry.digest.slice(7)))).toBe(digests[ref]);
    }
  });

  it('without ca the build fails naming the URL and suggesting registries.<host>.ca', async () => {
    const r = await build(manifest('no-ca'), 'no-ca');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`https://${upstream.host}/v2/`);
    expect(r.stderr).toMatch(/not trusted/);
    expect(r.stderr).toContain(`registries."${upstream.host}".ca`);
  });

  it('with another CA the build fails naming the URL and that CA file', async () => {
    const r = await build(manifest('other-ca', { [upstream.host]: { ca: pki.otherCa } }), 'other-ca');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`https://${upstream.host}/v2/`);
    expect(r.stderr).toMatch(/not trusted/);
    expect(r.stderr).toContain(pki.otherCa);
  });

  it('a missing or non-PEM ca file is a manifest error at its line, naming the file and the host', async () => {
    const missing = join(tmp, 'nowhere', 'ca.pem');
    const notPem = join(tmp, 'not-a-cert.pem');
    writeFileSync(notPem, 'hello\n');
    const m = manifest('bad-ca', { [upstream.host]: { ca: missing }, 'other.example': { ca: notPem } });
    const r = await build(m, 'bad-ca');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${m}:${lineOf(m, missing)}:\\d+.*registries\\.${upstream.host.replace(/\./g, '\\.')}\\.ca.*${missing}.*ENOENT`));
    expect(r.stderr).toMatch(new RegExp(`${m}:${lineOf(m, notPem)}:\\d+.*registries\\.other\\.example\\.ca.*${notPem}.*no PEM certificate`));
  });
});

describe('push into a registry with a private CA', () => {
  it('push --ca copies the images with digests unchanged; without --ca it names the URL and --ca', async () => {
    target = await startRegistry(join(tmp, 'target'), undefined, { certificate: pki.cert, key: pki.key });
    const bundle = join(tmp, 'out', 'with-ca.tar');
    const refused = await runCli(['push', bundle, '--registry', `${target.host}/mirror`, '--data-dir', join(tmp, 'data')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`https://${target.host}/v2/`);
    expect(refused.stderr).toContain('--ca');
    const r = await runCli(['push', bundle, '--registry', `${target.host}/mirror`, '--ca', pki.ca, '--data-dir', join(tmp, 'data')]);
    expect(r.code, r.stderr).toBe(0);
    for (const ref of REFS) {
      const { stdout } = await promisify(execFile)('bash', ['-o', 'pipefail', '-c', 'skopeo inspect --raw --cert-dir "$1" "docker://$2" | sha256sum', 'sh', pki.certDir, `${target.host}/mirror/${ref}`]);
      expect('sha256:' + stdout.slice(0, 64)).toBe(digests[ref]);
    }
  });
});
