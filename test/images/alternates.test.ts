/**
 * Alternate sources for images, with real parts under the names users meet: docker-registry instances over TLS on
 * loopback addresses of their own as registry-1.docker.io (which has none of KubeSphere's images any more, as after
 * 2025-07-31), registry.cn-beijing.aliyuncs.com (which has copies under kubesphereio/), quay.io (htpasswd) and
 * ghcr.io (nothing listens) and gcr.io (its CA not given), each certificate from a private CA; the CLI runs in a mount
 * namespace whose /etc/hosts sends those names there, and whose resolv.conf names a server that does not answer. The images are the umoci fixtures pushed with skopeo; every digest and size expected
 * here comes from skopeo, sha256sum or the registry's own storage, never from the code under test.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dump, load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImages } from '../../src/images/collect.js';
import type { KindPlan } from '../../src/collector/context.js';
import { runCli } from '../support/cli.js';
import { testContext, testManifest, testTarget } from '../support/context.js';
import { realNames, type RealNames } from '../support/real-names.js';
import { requireTools } from '../support/tools.js';
import { startContainerd } from '../support/containerd.js';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { freePort, htpasswd, sha256Hex, startRegistry, stopProcess, type Registry } from './support.js';

const execFileP = promisify(execFile);
const HUB = 'registry-1.docker.io';
const ALI = 'registry.cn-beijing.aliyuncs.com';
const QUAY = 'quay.io';
const GHCR = 'ghcr.io';
/** A registry whose CA the manifest does not give. */
const GCR = 'gcr.io';
/** In no hosts file: its name does not resolve. */
const NOWHERE = 'registry.kubesphere.example';
const CONSOLE = 'docker.io/kubesphere/ks-console:v3.4.1';
const APISERVER = 'docker.io/kubesphere/ks-apiserver:v3.4.1';
const GONE = 'docker.io/kubesphere/gone:v1';
const ALTERNATES = [{ prefix: 'docker.io/kubesphere/', to: [`${ALI}/kubesphereio/`] }];

let tmp: string;
let names: RealNames;
const registries: Record<string, Registry> = {};
const logs = { hub: '', ali: '' };
/** Digests as `skopeo inspect --raw | sha256sum` gives them, by repository path in the alternate. */
const digests: Record<string, string> = {};

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci', 'htpasswd', 'openssl', 'unshare', 'containerd', 'ctr', 'sha256sum');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-alternates-'));
  names = realNames(join(tmp, 'names'), [HUB, ALI, QUAY, GHCR, GCR]);
  const tls = { certificate: names.cert, key: names.key };
  logs.hub = join(tmp, 'hub-access.log');
  logs.ali = join(tmp, 'ali-access.log');
  registries.hub = await startRegistry(join(tmp, 'hub'), undefined, tls, `${names.ip(HUB)}:443`, { accessLog: logs.hub });
  registries.ali = await startRegistry(join(tmp, 'ali'), undefined, tls, `${names.ip(ALI)}:443`, { accessLog: logs.ali });
  registries.gcr = await startRegistry(join(tmp, 'gcr'), undefined, tls, `${names.ip(GCR)}:443`);
  registries.quay = await startRegistry(join(tmp, 'quay'), { htpasswd: htpasswd(tmp, 'builder', 's3cret-pass') }, tls, `${names.ip(QUAY)}:443`);
  const layout = buildFixtureImages(join(tmp, 'fixture'));
  const ali = `${names.ip(ALI)}:443`;
  await pushFixture(layout, 'app', `${ali}/kubesphereio/ks-console:v3.4.1`);
  await pushFixture(layout, 'multi', `${ali}/kubesphereio/ks-apiserver:v3.4.1`);
  await pushFixture(layout, 'busybox', `${names.ip(QUAY)}:443/kubesphere/private:v1`, 'builder:s3cret-pass');

  for (const repo of ['kubesphereio/ks-console:v3.4.1', 'kubesphereio/ks-apiserver:v3.4.1']) {
    digests[repo] = 'sha256:' + sha256Hex(await raw(`${ali}/${repo}`));
  }
}, 120_000);

afterAll(async () => {
  for (const r of Object.values(registries)) await r.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function raw(ref: string): Promise<Buffer> {
  return (await execFileP('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'buffer' })).stdout;
}

const statSize = (file: string) => (existsSync(file) ? statSync(file).size : 0);

/** Requests in a registry's access log (combined log format) from `from` on: `GET /v2/…`. */
function requests(log: string, from = 0): string[] {
  const text = existsSync(log) ? readFileSync(log, 'utf8').slice(from) : '';
  return [...text.matchAll(/"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
}

/**
 * Every blob of an image in the alternate once, sized from docker-registry's own storage: the top manifest, and for
 * an index each platform's manifest (both targets are built), each with its config and layers.
 */
async function expectedBlobs(repoTag: string, arches = ['amd64', 'arm64']): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const onDisk = (digest: string) => statSync(join(tmp, 'ali', 'data', 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data')).size;
  const visit = async (ref: string) => {
    const bytes = await raw(`${names.ip(ALI)}:443/${ref}`);
    const digest = 'sha256:' + sha256Hex(bytes);
    out.set(digest, onDisk(digest));
    const doc = JSON.parse(bytes.toString());
    const repo = ref.split(/[:@]/)[0];
    if (doc.manifests) for (const m of doc.manifests.filter((d: any) => arches.includes(d.platform.architecture))) await visit(`${repo}@${m.digest}`);
    else for (const b of [doc.config, ...doc.layers]) out.set(b.digest, onDisk(b.digest));
  };
  await visit(repoTag);
  return out;
}

/** A build manifest with the alternates, every registry's CA given except `noCa`'s. */
function manifestFile(name: string, images: string[], noCa: string[] = []): string {
  const file = join(tmp, `${name}.yaml`);
  const registries = Object.fromEntries(['docker.io', ALI, QUAY, GHCR, GCR].filter((r) => !noCa.includes(r)).map((r) => [r, { ca: names.ca }]));
  // amd64 only: the bundled runtime is this machine's node. ks-apiserver's index keeps its digest; arm64 is left out.
  const spec = { targets: [{ os: 'debian-12', arch: 'amd64' }], runtime: { source: 'local' }, registries, images, alternates: ALTERNATES };
  writeFileSync(file, dump({ apiVersion: 'ks-bundle/v1', kind: 'BundleManifest', metadata: { name, version: '1.0.0' }, spec }, { lineWidth: -1 }));
  return file;
}

/** `ks-bundle build` as a user runs it, the registries found by name through the namespace's /etc/hosts. */
const build = (manifest: string, name: string, ...extra: string[]) =>
  runCli(['build', '-m', manifest, '-o', join(tmp, 'out', `${name}.tar`), '--cache', join(tmp, 'cache'), ...extra], { wrap: names.wrap });

describe('plan: manifests only, figures of every blob once, what is unavailable', () => {
  let plan: KindPlan;
  let hubFrom: number;
  let aliFrom: number;

  it('resolves from the alternate when the original answers not found, and downloads no blob', async () => {
    // In this process the names do not resolve: each registry is reached at its address, with the same CA.
    const settings = { 'docker.io': { endpoint: `${names.ip(HUB)}:443`, ca: names.ca }, [ALI]: { endpoint: `${names.ip(ALI)}:443`, ca: names.ca } };
    const manifest = testManifest({ targets: [testTarget({ arch: 'amd64' }), testTarget({ arch: 'arm64' })], registries: settings, images: [CONSOLE, APISERVER, GONE], alternates: ALTERNATES });
    const ctx = testContext(manifest, { store: join(tmp, 'plan-cache'), workDir: join(tmp, 'plan-work'), retry: { retries: 1, minTimeoutMs: 50, maxTimeoutMs: 100 } });
    hubFrom = statSize(logs.hub);
    aliFrom = statSize(logs.ali);
    plan = await planImages(ctx);
    await sleep(300); // the access log is written after the answer
    const seen = [...requests(logs.hub, hubFrom), ...requests(logs.ali, aliFrom)];
    expect(seen.filter((r) => r.includes('/blobs/')), seen.join('\n')).toEqual([]);
    expect(requests(logs.hub, hubFrom)).toContain('GET /v2/kubesphere/ks-console/manifests/v3.4.1 404');
    expect(requests(logs.ali, aliFrom)).toContain('GET /v2/kubesphereio/ks-console/manifests/v3.4.1 200');
  });

  it('counts every blob of the images once: manifests, configs, layers, as the registry stores them', async () => {
    const blobs = new Map([...(await expectedBlobs('kubesphereio/ks-console:v3.4.1')), ...(await expectedBlobs('kubesphereio/ks-apiserver:v3.4.1'))]);
    const bytes = [...blobs.values()].reduce((a, b) => a + b, 0);
    expect(plan.kinds.images).toEqual({ count: 2, bytes, cachedBytes: expect.any(Number) });
    // A fresh cache holds only the manifests the plan read (JSON, a few hundred bytes each), no layer.
    const layers = [...blobs.values()].filter((n) => n > 4096);
    expect(plan.kinds.images!.cachedBytes).toBeLessThan(Math.min(...layers));
  });

  it('names the image no source has, with each source tried and the registry error code', () => {
    expect(plan.unavailable).toHaveLength(1);
    const u = plan.unavailable[0]!;
    expect(u).toMatchObject({ kind: 'images', name: GONE });
    expect(u.tried.map((t) => [t.source, t.error])).toEqual([
      [GONE, 'not-found'],
      [`${ALI}/kubesphereio/gone:v1`, 'not-found'],
    ]);
    expect(u.tried[0]!.message).toContain(`https://${names.ip(HUB)}/v2/kubesphere/gone/manifests/v1: HTTP 404 Not Found (MANIFEST_UNKNOWN: manifest unknown)`);
  });

  it('fetch then downloads exactly those bytes, from the alternate', async () => {
    const from = statSync(logs.ali).size;
    const plan2 = { ...plan, unavailable: [] };
    const out = await plan2.fetch();
    const blobBytes = out.entries.filter((e) => e.path.includes('/blobs/sha256/')).reduce((a, e) => a + e.size, 0);
    expect(blobBytes).toBe(plan.kinds.images!.bytes);
    // What the plan adds for the layout's own files is what fetch writes.
    const layoutFiles = out.entries.filter((e) => e.path === 'repos/images/index.json' || e.path === 'repos/images/oci-layout');
    expect(layoutFiles).toHaveLength(2);
    expect(plan.generatedBytes).toBe(layoutFiles.reduce((a, e) => a + e.size, 0));
    await sleep(300);
    expect(requests(logs.ali, from).some((r) => /^GET \/v2\/kubesphereio\/ks-console\/blobs\/sha256:\w+ 200$/.test(r))).toBe(true);
  });
});

describe('build with an alternate, under real names over TLS', () => {
  let manifest: string;
  let lockFile: string;
  let planned: { kinds: Record<string, { count: number; bytes: number; cachedBytes: number }>; unavailable: unknown[] };

  it('plan --json: exit 0, the images figure as the registry stores them, and no blob downloaded', async () => {
    manifest = manifestFile('ks', [CONSOLE, APISERVER]);
    const from = { hub: statSize(logs.hub), ali: statSize(logs.ali) };
    const r = await runCli(['plan', '-m', manifest, '-o', join(tmp, 'out', 'ks.tar'), '--cache', join(tmp, 'cache'), '--json'], { wrap: names.wrap });
    expect(r.code, r.stderr).toBe(0);
    planned = JSON.parse(r.stdout);
    const blobs = new Map([...(await expectedBlobs('kubesphereio/ks-console:v3.4.1', ['amd64'])), ...(await expectedBlobs('kubesphereio/ks-apiserver:v3.4.1', ['amd64']))]);
    expect(planned.kinds.images).toMatchObject({ count: 2, bytes: [...blobs.values()].reduce((a, b) => a + b, 0) });
    expect(planned.unavailable).toEqual([]);
    await sleep(300);
    const seen = [...requests(logs.hub, from.hub), ...requests(logs.ali, from.ali)];
    expect(seen.some((x) => x.startsWith('GET /v2/kubesphereio/ks-console/manifests/v3.4.1 200')), seen.join('\n')).toBe(true);
    expect(seen.filter((x) => x.includes('/blobs/')), seen.join('\n')).toEqual([]);
  }, 120_000);

  it('plan --json names an image no source has, with each source and why, and exits 1', async () => {
    const r = await runCli(['plan', '-m', manifestFile('plan-gone', [CONSOLE, GONE]), '--cache', join(tmp, 'cache'), '--json'], { wrap: names.wrap });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).unavailable).toEqual([
      { kind: 'images', name: GONE, tried: [{ source: GONE, error: 'not-found' }, { source: `${ALI}/kubesphereio/gone:v1`, error: 'not-found' }] },
    ]);
  }, 120_000);

  it('builds: the lock names the original, the source it was fetched from, and that source\'s digest', async () => {
    lockFile = manifest.replace(/\.yaml$/, '.lock.yaml');
    const r = await build(manifest, 'ks');
    expect(r.code, r.stderr).toBe(0);
    const lock = load(readFileSync(lockFile, 'utf8')) as { artifacts: Array<{ kind: string; name: string; source: string; extra?: { digest?: string } }> };
    const image = (n: string) => lock.artifacts.find((a) => a.kind === 'image' && a.name === n);
    expect(image(CONSOLE)).toMatchObject({ source: `${ALI}/kubesphereio/ks-console:v3.4.1`, extra: { digest: digests['kubesphereio/ks-console:v3.4.1'] } });
    expect(image(APISERVER)).toMatchObject({ source: `${ALI}/kubesphereio/ks-apiserver:v3.4.1`, extra: { digest: digests['kubesphereio/ks-apiserver:v3.4.1'] } });
    const blobSources = new Set(lock.artifacts.filter((a) => a.kind === 'blob').map((a) => a.source));
    expect([...blobSources].every((s) => s === `${ALI}/kubesphereio/ks-console` || s === `${ALI}/kubesphereio/ks-apiserver`), [...blobSources].join(', ')).toBe(true);
    // The original was asked first, by its own name, and the build said where the image came from instead.
    expect(requests(logs.hub)).toContain('GET /v2/kubesphere/ks-console/manifests/v3.4.1 404');
    expect(r.stderr + r.stdout).toContain(`image ${CONSOLE} comes from ${ALI}/kubesphereio/ks-console:v3.4.1 (${CONSOLE}: not-found)`);
    // What plan said, against the bundle written (sizes as GNU tar lists them).
    const listing = (await execFileP('tar', ['-tvf', join(tmp, 'out', 'ks.tar')], { maxBuffer: 1 << 26 })).stdout.split('\n');
    const blobBytes = listing.filter((l) => l.includes('/repos/images/blobs/sha256/')).reduce((a, l) => a + Number(l.trim().split(/\s+/)[2]), 0);
    expect(blobBytes).toBe(planned.kinds.images!.bytes);
  }, 120_000);

  it('the bundle\'s mirror serves it under the original name to skopeo and containerd, with the alternate\'s digest', async () => {
    const port = await freePort();
    let server: ChildProcess | undefined;
    const running = runCli(['serve', join(tmp, 'out', 'ks.tar'), '--listen', '127.0.0.1', '--port', String(port), '--data-dir', join(tmp, 'data')], { onChild: (c) => (server = c) });
    const mirror = `127.0.0.1:${port}`;
    try {
      for (let i = 0; !(await fetch(`http://${mirror}/healthz`).then((r) => r.ok, () => false)); i++) {
        if (i > 400) throw new Error(`ks-bundle serve did not start: ${(await Promise.race([running, sleep(10).then(() => undefined)]))?.stderr}`);
        await sleep(50);
      }
      const catalog = await (await fetch(`http://${mirror}/v2/_catalog`)).json();
      expect(catalog.repositories).toEqual(['docker.io/kubesphere/ks-apiserver', 'docker.io/kubesphere/ks-console']);
      for (const [path, repo] of [['kubesphere/ks-console:v3.4.1', 'kubesphereio/ks-console:v3.4.1'], ['docker.io/kubesphere/ks-apiserver:v3.4.1', 'kubesphereio/ks-apiserver:v3.4.1']]) {
        expect('sha256:' + sha256Hex(await raw(`${mirror}/${path}`)), path).toBe(digests[repo!]);
      }
      const dest = join(tmp, 'pulled-console');
      await execFileP('skopeo', ['copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${mirror}/docker.io/kubesphere/ks-console:v3.4.1`, `oci:${dest}:x`]);
      expect(JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')).manifests[0].digest).toBe(digests['kubesphereio/ks-console:v3.4.1']);
      await containerdPulls(`http://${mirror}`);
    } finally {
      if (server) await stopProcess(server);
      await running;
    }
  }, 120_000);

  it('a lock pinned to another digest makes build --locked fail, naming both digests', async () => {
    // A digest nobody serves, as when the lock was written from a copy that has since been rebuilt.
    const other = 'sha256:' + sha256Hex('the ks-console the lock was written from');
    const console = digests['kubesphereio/ks-console:v3.4.1']!;
    const lock = load(readFileSync(lockFile, 'utf8')) as { artifacts: Array<{ kind: string; name: string; extra?: Record<string, unknown> }> };
    for (const a of lock.artifacts) if (a.kind === 'image' && a.name === CONSOLE) a.extra = { ...a.extra, digest: other };
    writeFileSync(lockFile, dump(lock, { lineWidth: -1 }));
    const r = await build(manifest, 'ks-locked', '--locked');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`images ${CONSOLE}:`);
    const line = r.stderr.split('\n').find((l) => l.includes(`${ALI}/kubesphereio/ks-console:v3.4.1: digest-mismatch:`));
    expect(line, r.stderr).toBeDefined();
    expect(line).toContain(other);
    expect(line).toContain(console);
    expect(r.stderr).toMatch(new RegExp(`  ${CONSOLE.replace(/\./g, '\\.')}: not-found: .*MANIFEST_UNKNOWN`));
    expect(existsSync(join(tmp, 'out', 'ks-locked.tar'))).toBe(false);
  }, 120_000);
});

describe('why a source could not give an image, as a user reads it', () => {
  it('not found, unauthorized and network are told apart, each naming the image, the source and what to do', async () => {
    const images = [GONE, `${QUAY}/kubesphere/private:v1`, `${GHCR}/kubesphere/refused:v1`, `${GCR}/google/untrusted:v1`, `${NOWHERE}/kubesphere/unresolved:v1`];
    const r = await build(manifestFile('fail', images, [GCR]), 'fail');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('5 artifacts could not be fetched from any source');
    const lines = r.stderr.split('\n');
    const about = (source: string) => lines.find((l) => l.startsWith(`  ${source}: `)) ?? `(no line for ${source} in:\n${r.stderr})`;
    expect(about(GONE)).toBe(`  ${GONE}: not-found: https://${HUB}/v2/kubesphere/gone/manifests/v1: HTTP 404 Not Found (MANIFEST_UNKNOWN: manifest unknown)`);
    expect(about(`${ALI}/kubesphereio/gone:v1`)).toContain('not-found: ');
    expect(about(`${QUAY}/kubesphere/private:v1`)).toBe(
      `  ${QUAY}/kubesphere/private:v1: unauthorized: https://${QUAY}/v2/kubesphere/private/manifests/v1: HTTP 401 Unauthorized (UNAUTHORIZED: authentication required): no credentials for registry ${QUAY} were given`,
    );
    expect(about(`${GHCR}/kubesphere/refused:v1`)).toMatch(new RegExp(`^  ${GHCR}/kubesphere/refused:v1: network: .*https://${GHCR}/v2/.*ECONNREFUSED`));
    // TLS: the certificate is not trusted, and the line says where the registry's CA would go.
    expect(about(`${GCR}/google/untrusted:v1`)).toMatch(new RegExp(`^  ${GCR}/google/untrusted:v1: network: https://${GCR}/v2/.*TLS certificate not trusted.*registries\."${GCR}"\.ca`));
    // DNS: the name does not resolve.
    expect(about(`${NOWHERE}/kubesphere/unresolved:v1`)).toMatch(new RegExp(`^  ${NOWHERE}/kubesphere/unresolved:v1: network: .*${NOWHERE}.*(ENOTFOUND|EAI_AGAIN)`));
    expect(r.stderr).toMatch(/not-found: it is gone from there: add an alternate source under spec\.alternates/);
    expect(r.stderr).toMatch(/unauthorized: give credentials/);
    expect(r.stderr).toMatch(/network: check the network, DNS and the proxy variables/);
  }, 180_000);
});

/** containerd wired as on a node (certs.d/docker.io/hosts.toml, the mirror as server) pulls the original names. */
async function containerdPulls(mirrorUrl: string): Promise<void> {
  const { ctr, hostsDir, stop } = await startContainerd(join(tmp, 'ctrd'), 'docker.io', mirrorUrl);
  try {
    await ctr('images', 'pull', '--hosts-dir', hostsDir, CONSOLE);
    await ctr('images', 'pull', '--platform', 'linux/amd64', '--hosts-dir', hostsDir, APISERVER);
    const ls = await ctr('images', 'ls');
    expect(ls).toMatch(new RegExp(`^${CONSOLE.replace(/\./g, '\\.')}\\s+\\S+\\s+${digests['kubesphereio/ks-console:v3.4.1']}`, 'm'));
    expect(ls).toMatch(new RegExp(`^${APISERVER.replace(/\./g, '\\.')}\\s+\\S+\\s+${digests['kubesphereio/ks-apiserver:v3.4.1']}`, 'm'));
  } finally {
    await stop();
  }
}
