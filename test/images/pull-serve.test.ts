/**
 * End to end with real parts: fixture images (umoci) pushed with skopeo to docker-registry with htpasswd auth →
 * collectImages → bundle layout → the mirror's /v2/ → real skopeo and real containerd pull from it → push into a
 * second docker-registry → skopeo inspect there.
 *
 * Names: the bundle holds docker.io/library/{busybox,app,multi}; the manifest says docker.io is pulled from the
 * test registry (`registries: {docker.io: {endpoint: 127.0.0.1:PORT, insecure: true}}`), so containerd can be wired
 * exactly as on a node, through certs.d/docker.io/hosts.toml, and the mirror sees `?ns=docker.io`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImages } from '../../src/images/collect.js';
import { pushBundleImages } from '../../src/images/push.js';
import { startMirror, type RunningMirror } from '../../src/mirror/server.js';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import type { KindOutput } from '../../src/collector/context.js';
import type { ProgressEvent } from '../../src/progress/events.js';
import { requireTools } from '../support/tools.js';
import { startContainerd } from '../support/containerd.js';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { dockerConfig, htpasswd, imagesContext, layOut, sha256Hex, startRegistry, upstreamDigest, type Registry } from './support.js';
import { testHttp } from '../support/http.js';

const execFileP = promisify(execFile);
const CREDS = 'builder:s3cret-pass';
// Three spellings of one busybox: the bundle holds it once.
const IMAGES = ['busybox:1.36', 'docker.io/library/app:1.0', 'library/multi:1.0', 'docker.io/library/busybox:1.36', 'index.docker.io/library/busybox:1.36'];

let tmp: string;
let upstream: Registry;
let target: Registry;
let mirror: RunningMirror;
let out: KindOutput;
let bundleDir: string;
let authFile: string;
const digests: Record<string, string> = {};
const events: ProgressEvent[] = [];

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci', 'htpasswd', 'containerd', 'ctr', 'runc');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-images-'));
  upstream = await startRegistry(join(tmp, 'upstream'), { htpasswd: htpasswd(tmp, 'builder', 's3cret-pass') });
  const layout = buildFixtureImages(join(tmp, 'fixture'));
  await pushFixture(layout, 'busybox', `${upstream.host}/library/busybox:1.36`, CREDS);
  await pushFixture(layout, 'app', `${upstream.host}/library/app:1.0`, CREDS);
  await pushFixture(layout, 'multi', `${upstream.host}/library/multi:1.0`, CREDS);
  for (const [k, r] of [['busybox', 'library/busybox:1.36'], ['app', 'library/app:1.0'], ['multi', 'library/multi:1.0']]) {
    digests[k!] = await upstreamDigest(`${upstream.host}/${r}`, CREDS);
  }
  authFile = dockerConfig(join(tmp, 'auth.json'), upstream.host, 'builder', 's3cret-pass');
  const ctx = imagesContext({
    cache: join(tmp, 'cache'),
    workDir: join(tmp, 'work'),
    images: IMAGES,
    registries: { 'docker.io': { endpoint: upstream.host, insecure: true } },
    authFile,
    events,
  });
  out = await collectImages(ctx);
  bundleDir = join(tmp, 'bundle');
  layOut(out, bundleDir);
  mirror = await startMirror({ bundleDir, mounts: BUNDLE_MOUNTS, port: 0, logDir: join(tmp, 'logs') });
}, 120_000);

afterAll(async () => {
  await mirror?.close();
  await upstream?.stop();
  await target?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// Async: the mirror runs in this process, so a client started with execFileSync would deadlock against it.
const skopeo = async (...args: string[]) => (await execFileP('skopeo', args, { maxBuffer: 1 << 26 })).stdout;
const mirrorHost = () => mirror.url.replace('http://', '');

describe('collect from an htpasswd-protected docker-registry', () => {
  it('locks every image at the digest the upstream serves, normalised names', () => {
    const images = out.lock.filter((e) => e.kind === 'image');
    expect(images.map((e) => e.name).sort()).toEqual(['docker.io/library/app:1.0', 'docker.io/library/busybox:1.36', 'docker.io/library/multi:1.0']);
    expect(images.find((e) => e.name.endsWith('busybox:1.36'))!.extra!.digest).toBe(digests.busybox);
    expect(images.find((e) => e.name.endsWith('app:1.0'))!.extra!.digest).toBe(digests.app);
    expect(images.find((e) => e.name.endsWith('multi:1.0'))!.extra!.digest).toBe(digests.multi);
    expect(images.find((e) => e.name.endsWith('multi:1.0'))!.extra!.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    // No credential anywhere in the lock.
    expect(JSON.stringify(out.lock)).not.toContain('s3cret');
  });

  it('stores a blob shared by images once, and every file matches its digest', () => {
    const paths = out.entries.map((e) => e.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const e of out.entries.filter((x) => x.file)) {
      expect(sha256Hex(readFileSync(e.file!))).toBe(e.path.split('/').pop());
    }
    // The base layer is shared by busybox, app and both platforms of multi: one download.
    const started = events.filter((e) => e.type === 'start').map((e) => (e as { id: string }).id);
    expect(new Set(started).size).toBe(started.length);
  });

  it('a second build fetches no blob again (the cache)', async () => {
    const again: ProgressEvent[] = [];
    const ctx = imagesContext({ cache: join(tmp, 'cache'), workDir: join(tmp, 'work2'), images: IMAGES, registries: { 'docker.io': { endpoint: upstream.host, insecure: true } }, authFile, events: again });
    const second = await collectImages(ctx);
    expect(second.entries.map((e) => e.path)).toEqual(out.entries.map((e) => e.path));
    const dones = again.filter((e) => e.type === 'done') as Array<{ cached: boolean }>;
    expect(dones.length).toBeGreaterThan(0);
    expect(dones.every((d) => d.cached)).toBe(true);
  });

  it('--locked fetches exactly the locked digests, and says what differs', async () => {
    const reg = { 'docker.io': { endpoint: upstream.host, insecure: true } };
    const locked = await collectImages(imagesContext({ cache: join(tmp, 'cache'), workDir: join(tmp, 'wl'), images: IMAGES, registries: reg, authFile, locked: out.lock }));
    expect(locked.lock).toEqual(out.lock);
    const changed = out.lock.map((e) => (e.kind === 'image' && e.name.endsWith('app:1.0') ? { ...e, extra: { ...e.extra, digest: 'sha256:' + '1'.repeat(64) } } : e));
    await expect(collectImages(imagesContext({ cache: join(tmp, 'cache'), workDir: join(tmp, 'wl2'), images: IMAGES, registries: reg, authFile, locked: changed }))).rejects.toThrow(/app:1\.0.*registry docker\.io/);
    await expect(collectImages(imagesContext({ cache: join(tmp, 'cache'), workDir: join(tmp, 'wl3'), images: [...IMAGES, 'busybox:9'], registries: reg, authFile, locked: out.lock }))).rejects.toThrow(/busybox:9 is not in the lock/);
  });

  it('fails on a pinned digest the registry does not serve, naming image and registry', async () => {
    const wrong = 'sha256:' + '0'.repeat(64);
    const ctx = imagesContext({ cache: join(tmp, 'cache'), workDir: join(tmp, 'w3'), images: [`busybox:1.36@${wrong}`], registries: { 'docker.io': { endpoint: upstream.host, insecure: true } }, authFile });
    const err = await collectImages(ctx).then(() => undefined, (e) => e);
    expect(err?.message).toMatch(/docker\.io\/library\/busybox:1\.36@sha256:0+.*registry docker\.io/);
    // The tag still answers, with other content: a digest mismatch naming both digests (exit 3), never a substitution.
    expect(err.exitCode).toBe(3);
    expect(err.unavailable[0].tried.map((t: { error: string }) => t.error)).toEqual(['digest-mismatch']);
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(digests.busybox);
  });

  it('without credentials the error says the registry needs them, and never shows a secret', async () => {
    const ctx = imagesContext({ cache: join(tmp, 'cache-anon'), workDir: join(tmp, 'w4'), images: ['busybox:1.36'], registries: { 'docker.io': { endpoint: upstream.host, insecure: true } } });
    const err = await collectImages(ctx).then(() => undefined, (e) => e);
    expect(err?.exitCode).toBe(1);
    expect(err.unavailable[0].tried.map((t: { error: string }) => t.error)).toEqual(['unauthorized']);
    expect(err.message).toMatch(/HTTP 401 Unauthorized \(UNAUTHORIZED: authentication required\): no credentials for registry docker\.io were given/);
    expect(err.hint).toMatch(/give credentials/);
  });

  it('keeps only the target platforms; the mirror answers a clear 404 for a left-out one', async () => {
    const ctx = imagesContext({ cache: join(tmp, 'cache'), workDir: join(tmp, 'w5'), images: ['multi:1.0'], registries: { 'docker.io': { endpoint: upstream.host, insecure: true } }, authFile, arches: ['amd64'] });
    const amdOnly = await collectImages(ctx);
    const lock = amdOnly.lock.find((e) => e.kind === 'image')!;
    expect(lock.extra!.digest).toBe(digests.multi);
    expect(lock.extra!.leftOut).toEqual(['linux/arm64/v8']);
    const dir = join(tmp, 'bundle-amd64');
    layOut(amdOnly, dir);
    const m = await startMirror({ bundleDir: dir, mounts: BUNDLE_MOUNTS, port: 0 });
    try {
      const index = JSON.parse(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${m.url.slice(7)}/library/multi:1.0`));
      expect('sha256:' + sha256Hex(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${m.url.slice(7)}/library/multi:1.0`))).toBe(digests.multi);
      const arm = index.manifests.find((d: any) => d.platform.architecture === 'arm64');
      const res = await fetch(`${m.url}/v2/library/multi/manifests/${arm.digest}`);
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body.errors[0].code).toBe('MANIFEST_UNKNOWN');
      expect(body.errors[0].message).toMatch(/linux\/arm64.*left out/);
      expect(m.misses.length).toBe(1);
    } finally {
      await m.close();
    }
  });
});

describe('the mirror serves the bundle to real clients', () => {
  it('answers /v2/, the catalog and tags', async () => {
    const base = await fetch(`${mirror.url}/v2/`);
    expect(base.status).toBe(200);
    expect(base.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    const cat = await (await fetch(`${mirror.url}/v2/_catalog`)).json();
    expect(cat.repositories).toEqual(['docker.io/library/app', 'docker.io/library/busybox', 'docker.io/library/multi']);
    const tags = await (await fetch(`${mirror.url}/v2/library/busybox/tags/list`)).json();
    expect(tags.tags).toEqual(['1.36']);
    const head = await fetch(`${mirror.url}/v2/docker.io/library/multi/manifests/1.0`, { method: 'HEAD' });
    expect(head.headers.get('docker-content-digest')).toBe(digests.multi);
    expect(head.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    const put = await fetch(`${mirror.url}/v2/library/busybox/manifests/1.36`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
  });

  it('curl gets byte ranges of a blob exactly as the file holds them, across read-chunk edges; past the end is 416', async () => {
    const blobs = out.entries.filter((e) => e.path.includes('blobs/sha256/')).sort((a, b) => b.size - a.size);
    const big = blobs[0]!;
    expect(big.size).toBeGreaterThan((1 << 20) + 4096); // so a range can cross the mirror's 1 MiB reads
    const bytes = readFileSync(big.file!);
    const blobUrl = `${mirror.url}/v2/library/busybox/blobs/sha256:${big.path.split('/').pop()}`;
    const get = async (range: string) =>
      (await execFileP('curl', ['-sf', '-r', range, blobUrl], { encoding: 'buffer', maxBuffer: 1 << 26 })).stdout as unknown as Buffer;
    const edge = 1 << 20;
    expect((await get('0-99')).equals(bytes.subarray(0, 100))).toBe(true);
    expect((await get(`${edge - 10}-${edge + 2000}`)).equals(bytes.subarray(edge - 10, edge + 2001))).toBe(true);
    expect((await get('-700')).equals(bytes.subarray(bytes.length - 700))).toBe(true);
    expect((await get(`${edge}-`)).equals(bytes.subarray(edge))).toBe(true);
    const past = await execFileP('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-r', `${bytes.length + 10}-`, blobUrl]);
    expect(past.stdout).toBe('416');
    expect((await execFileP('sh', ['-c', `curl -sf '${blobUrl}' | sha256sum`])).stdout.slice(0, 64)).toBe(big.path.split('/').pop());
  });

  it('a manifest has the bytes, digest, ETag and 304 of docker-registry\'s own answer, and ranges and HEAD as a blob has', async () => {
    const accept = ['-H', 'accept: application/vnd.oci.image.index.v1+json'];
    const path = '/v2/library/multi/manifests/1.0';
    const body = async (url: string, ...extra: string[]) => (await execFileP('curl', ['-sSf', ...accept, ...extra, url], { encoding: 'buffer' })).stdout as unknown as Buffer;
    const headers = async (url: string, ...extra: string[]) => {
      const raw = (await execFileP('curl', ['-sSfI', ...accept, ...extra, url])).stdout;
      return Object.fromEntries(raw.split('\r\n').flatMap((l) => (l.includes(': ') ? [[l.slice(0, l.indexOf(': ')).toLowerCase(), l.slice(l.indexOf(': ') + 2)]] : [])));
    };
    const status = async (url: string, ...extra: string[]) => (await execFileP('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...accept, ...extra, url])).stdout;
    const theirs = await body(`http://${upstream.host}${path}`, '-u', CREDS);
    const ours = await body(`${mirror.url}${path}`);
    expect(ours.equals(theirs)).toBe(true);
    expect('sha256:' + sha256Hex(ours)).toBe(digests.multi);
    const [h, g] = [await headers(`${mirror.url}${path}`), await headers(`http://${upstream.host}${path}`, '-u', CREDS)];
    for (const name of ['content-length', 'content-type', 'docker-content-digest', 'etag']) expect(h[name], name).toBe(g[name]);
    const etag = ['-H', `if-none-match: "${digests.multi}"`];
    expect(await status(`${mirror.url}${path}`, ...etag)).toBe('304');
    expect(await status(`http://${upstream.host}${path}`, '-u', CREDS, ...etag)).toBe('304');
    expect((await body(`${mirror.url}${path}`, '-r', '10-99')).equals(ours.subarray(10, 100))).toBe(true);
    expect(await status(`${mirror.url}${path}`, '-r', `${ours.length}-`)).toBe('416');
    expect((await body(`${mirror.url}/v2/library/multi/blobs/${digests.multi}`)).equals(ours)).toBe(true);
  });

  it('skopeo copy --all by tag and by digest, index digest unchanged', async () => {
    for (const [path, name] of [
      ['library/multi:1.0', 'multi'],
      [`docker.io/library/multi@${digests.multi}`, 'multi'],
      ['library/app:1.0', 'app'],
      [`docker.io/library/busybox@${digests.busybox}`, 'busybox'],
    ] as const) {
      const dest = join(tmp, 'pulled-' + sha256Hex(path).slice(0, 8));
      await skopeo('copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${mirrorHost()}/${path}`, `oci:${dest}:x`);
      const index = JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8'));
      expect(index.manifests[0].digest, path).toBe(digests[name]);
    }
  });

  it('skopeo reads the layout itself by full name (oci:<layout>:<name>)', async () => {
    const raw = await skopeo('inspect', '--raw', `oci:${join(bundleDir, 'repos/images')}:docker.io/library/multi:1.0`);
    expect('sha256:' + sha256Hex(raw)).toBe(digests.multi);
  });

  it('containerd pulls docker.io/library/* through certs.d/docker.io/hosts.toml (?ns=docker.io)', async () => {
    const { ctr, hostsDir, stop } = await startContainerd(join(tmp, 'ctrd'), 'docker.io', mirror.url);
    try {
      // Stop the upstream first: whatever containerd gets, it gets from the mirror.
      await upstream.stop();
      await ctr('images', 'pull', '--hosts-dir', hostsDir, 'docker.io/library/busybox:1.36');
      await ctr('images', 'pull', '--all-platforms', '--hosts-dir', hostsDir, 'docker.io/library/multi:1.0');
      const ls = await ctr('images', 'ls');
      expect(ls).toContain(digests.busybox);
      expect(ls).toContain(digests.multi);
      const log = readFileSync(join(tmp, 'logs', 'access.log'), 'utf8');
      expect(log).toMatch(/(HEAD|GET) \/v2\/library\/busybox\/manifests\/1\.36\?ns=docker\.io 200/);
      expect(mirror.misses).toEqual([]);
    } finally {
      await stop();
    }
  }, 120_000);
});

describe('push into an existing registry', () => {
  it('copies every image with digests unchanged; a rerun pushes nothing', async () => {
    target = await startRegistry(join(tmp, 'target'));
    const first = await pushBundleImages(bundleDir, { registry: `${target.host}/mirror`, insecure: true, http: testHttp() });
    expect(first.images).toBe(3);
    expect(first.blobsUploaded).toBeGreaterThan(0);
    // The shared base layer went up once and was mounted or found for the other repos.
    expect(first.blobsMounted + first.blobsPresent).toBeGreaterThan(0);
    for (const [name, ref] of [['busybox', 'library/busybox:1.36'], ['app', 'library/app:1.0'], ['multi', 'library/multi:1.0']] as const) {
      const info = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${target.host}/mirror/${ref}`));
      expect(info.schemaVersion).toBe(2);
      expect(await upstreamDigest(`${target.host}/mirror/${ref}`)).toBe(digests[name]);
    }
    const inspect = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${target.host}/mirror/library/app:1.0`));
    expect(inspect.Digest).toBe(digests.app);
    const again = await pushBundleImages(bundleDir, { registry: `${target.host}/mirror`, insecure: true, http: testHttp() });
    expect(again).toMatchObject({ images: 3, upToDate: 3, blobsUploaded: 0, manifestsPut: 0 });
  }, 60_000);
});
