/**
 * `ks-bundle plan` and the disk-space preflight, against real upstreams: docker-registry (its own access log is the
 * witness of what was fetched), a static file server, a PEP 503 index of real wheels, and a proxy to this machine's
 * Debian mirror. Small disks are real tmpfs mounts (root), unmounted at the end.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream.js';
import { sha256sum } from '../support/sha256sum.js';
import { isRoot, requireTools } from '../support/tools.js';
import { startAptProxy, type Handle } from '../support/world.js';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { serveStatic, wheelFixture, type StaticServer } from '../fixtures/wheels/fixture.js';
import { freePort, stopProcess } from '../images/support.js';
import { manifestHead } from '../support/manifest-head.js';

const KINDS = ['images', 'files', 'debs', 'wheels', 'manifests', 'playbooks', 'runtime'];
const MB = 1 << 20;

let dir: string;
let registry: { host: string; proc: ChildProcess; log: string[] };
let files: FaultUpstream;
let apt: Handle;
let wheels: StaticServer;
const mounts: string[] = [];

/** docker-registry on loopback with its access log on (combined format, on stdout): every GET it answered. */
async function startLoggedRegistry(root: string): Promise<typeof registry> {
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  const config = join(root, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: ${join(root, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  let pending = '';
  proc.stdout!.on('data', (d) => {
    const lines = (pending + d).split('\n');
    pending = lines.pop()!;
    log.push(...lines);
  });
  proc.stderr!.resume();
  for (let i = 0; !(await fetch(`http://127.0.0.1:${port}/v2/`).then(() => true, () => false)); i++) {
    if (proc.exitCode !== null || i > 200) throw new Error('docker-registry did not start');
    await sleep(50);
  }
  return { host: `127.0.0.1:${port}`, proc, log };
}

const blobGets = (from = 0) => registry.log.slice(from).filter((l) => /"GET \/v2\/[^ ]+\/blobs\/sha256:/.test(l));

/** A manifest of every kind; `imagesOnly`: the image and the runtime alone (no index is fetched while planning). */
function manifest(name: string, images = ['docker.io/library/busybox:1.36'], imagesOnly = false): string {
  const file = join(dir, `${name}.yaml`);
  const head = `${manifestHead(name)}  registries:
    docker.io: {endpoint: ${registry.host}, insecure: true}
  images:
${images.map((i) => `    - ${i}`).join('\n')}
`;
  writeFileSync(
    file,
    imagesOnly
      ? head
      : `${head}  files:
    - {url: "${files.url}/tool.bin", sha256: ${sha256sum(join(dir, 'up', 'tool.bin'))}}
  manifests:
    - {url: "${files.url}/cm.yaml", sha256: ${sha256sum(join(dir, 'up', 'cm.yaml'))}}
  apt:
    sources:
      - {name: debian, url: "${apt.url}", suites: [bookworm], components: [main], keyring: /usr/share/keyrings/debian-archive-keyring.gpg}
    packages: [socat]
  pip:
    index: ${wheels.url}/simple/
    requirements: [netaddr]
  playbooks: {path: ./pb, entry: site.yml}
`,
  );
  return file;
}

/** A private small disk: a tmpfs of `size` mounted at a new folder (root only), unmounted in afterAll. */
function tmpfs(name: string, size: string): string {
  const at = join(dir, name);
  mkdirSync(at);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at]);
  mounts.push(at);
  return at;
}

/** What `df` says is available there, in bytes: the oracle for diskFree. */
function dfAvail(path: string): number {
  return Number(execFileSync('df', ['-B1', '--output=avail', path], { encoding: 'utf8' }).split('\n')[1]!.trim());
}

/** The blobs of a single-platform image (its manifest, config and layers), in bytes, as skopeo reads the registry. */
function imageBlobs(ref: string): { manifest: number; config: number; layers: number } {
  const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  const m = JSON.parse(raw.toString()) as { config?: { size: number }; layers?: Array<{ size: number }> };
  if (!m.config || !m.layers) throw new Error(`${ref} is not a single-platform image manifest`);
  return { manifest: raw.length, config: m.config.size, layers: m.layers.reduce((n, l) => n + l.size, 0) };
}

/** Every file of a tarball (top folder stripped) with its size, as `tar tvf` lists it. */
function tarListing(tarball: string): Array<{ path: string; size: number }> {
  return execFileSync('tar', ['tvf', tarball], { encoding: 'utf8', maxBuffer: 64 * MB })
    .split('\n')
    .filter((l) => l.startsWith('-'))
    .map((l) => {
      const f = l.split(/\s+/);
      return { path: f.slice(5).join(' ').replace(/^[^/]+\//, ''), size: Number(f[2]) };
    });
}

/** "N bytes" figures in a message, in order. */
const byteFigures = (text: string) => [...text.matchAll(/\((\d+) bytes\)/g)].map((m) => Number(m[1]));

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci', 'mount', 'umount', 'df', 'tar');
  if (!isRoot()) throw new Error('these tests mount tmpfs: run them as root');
  dir = await mkdtemp(join(tmpdir(), 'ksb-plan-'));
  mkdirSync(join(dir, 'up'));
  mkdirSync(join(dir, 'pb'));
  writeFileSync(join(dir, 'up', 'tool.bin'), randomBytes(2 * MB));
  writeFileSync(join(dir, 'up', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata: {a: b}\n');
  writeFileSync(join(dir, 'pb', 'site.yml'), '- hosts: all\n  tasks: []\n');
  registry = await startLoggedRegistry(join(dir, 'registry'));
  await pushFixture(buildFixtureImages(join(dir, 'images')), 'busybox', `${registry.host}/library/busybox:1.36`);
  files = await startFaultUpstream(join(dir, 'up'));
  apt = await startAptProxy({ anyPort: true });
  wheels = await serveStatic(wheelFixture());
  shared = tmpfs('shared', '1g');
}, 120_000);

afterAll(async () => {
  for (const m of mounts.reverse()) execFileSync('umount', [m]);
  await Promise.all([registry && stopProcess(registry.proc), files?.close(), apt?.close(), wheels?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The full build's output and cache share one private file system, so its free space is ours alone to measure. */
let shared: string;
const out = () => join(shared, 'out', 'full.tar');
const cache = () => join(shared, 'cache-full');
let built: Promise<string> | undefined;
/** The bundle of manifest 'full', built once with the real CLI, for the tests that need a real tarball. */
function fullBundle(): Promise<string> {
  built ??= runCli(['build', '-m', manifest('full'), '-o', out(), '--cache', cache(), '--lock', join(dir, 'full.lock.yaml')]).then((r) => {
    if (r.code !== 0) throw new Error(`build exited ${r.code}: ${r.stderr.slice(-3000)}`);
    return out();
  });
  return built;
}

describe('plan', () => {
  let planned: any;

  it('--json: exit 0, one document with exactly the keys, the disk figures as df sees them, and no blob fetched', async () => {
    const logFrom = registry.log.length;
    const r = await runCli(['plan', '-m', manifest('full'), '-o', out(), '--cache', cache(), '--json']);
    expect(r.code, r.stderr).toBe(0);
    planned = JSON.parse(r.stdout);
    expect(Object.keys(planned)).toEqual(['kinds', 'bundleBytes', 'diskNeeded', 'diskFree', 'unavailable']);
    expect(Object.keys(planned.kinds)).toEqual(KINDS);
    for (const k of KINDS) {
      expect(Object.keys(planned.kinds[k]), k).toEqual(['count', 'bytes', 'cachedBytes']);
      for (const v of Object.values(planned.kinds[k])) expect(Number.isSafeInteger(v), k).toBe(true);
    }
    expect(planned.unavailable).toEqual([]);
    // The image manifest is metadata the plan itself reads (and keeps in the cache); config and layers are not fetched.
    const image = imageBlobs(`${registry.host}/library/busybox:1.36`);
    expect(planned.kinds.images).toEqual({ count: 1, bytes: image.manifest + image.config + image.layers, cachedBytes: image.manifest });
    // The output's folder does not exist yet: its nearest existing ancestor is where the bundle will land. What the
    // plan read (indexes) stays in the cache there; the work folder it removed on the way out may have freed a little.
    const free = dfAvail(shared);
    expect(planned.diskFree).toBeLessThanOrEqual(free);
    expect(planned.diskFree).toBeGreaterThan(free - MB);
    // Cache and output share one file system here: the downloads count at the output too.
    const toDownload = KINDS.reduce((n, k) => n + planned.kinds[k].bytes - planned.kinds[k].cachedBytes, 0);
    expect(planned.diskNeeded).toBe(planned.bundleBytes + toDownload);
    expect(blobGets(logFrom)).toEqual([]);
    // A file's size comes from a HEAD or a one-byte Range, never its body.
    expect(files.bytesSent.get('/tool.bin') ?? 0).toBeLessThanOrEqual(1);
    expect(existsSync(out())).toBe(false);
    expect(readdirSync(cache()).filter((n) => n.startsWith('work-'))).toEqual([]);
  });

  it('each kind\'s count and bytes are what the bundle build then writes holds, as GNU tar lists it', async () => {
    expect(planned, 'the --json test above ran').toBeDefined();
    const listing = tarListing(await fullBundle());
    const under = (re: RegExp) => listing.filter((e) => re.test(e.path));
    const figures = (entries: Array<{ size: number }>) => ({ count: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0) });
    expect(planned.kinds.images.bytes).toBe(figures(under(/^repos\/images\/blobs\/sha256\//)).bytes);
    expect(planned.kinds.debs).toMatchObject(figures(under(/^repos\/apt\/[^/]+\/pool\/.*\.deb$/)));
    expect(planned.kinds.wheels).toMatchObject(figures(under(/^repos\/pip\/files\/.*\.whl$/)));
    expect(planned.kinds.files).toMatchObject(figures(under(/^repos\/files\//)));
    expect(planned.kinds.manifests).toMatchObject(figures(under(/^manifests\//)));
    expect(planned.kinds.runtime).toMatchObject(figures(under(/^bin\//)));
    expect(planned.kinds.playbooks).toMatchObject({ count: 1, bytes: figures(under(/^playbooks\//)).bytes });
  });

  it('bundleBytes is within 3% of the tarball build then writes with the same options', async () => {
    expect(planned, 'the --json test above ran').toBeDefined();
    const written = statSync(await fullBundle()).size;
    expect(Math.abs(planned.bundleBytes - written) / written).toBeLessThan(0.03);
  });

  it('names in text what it found: every kind, the bundle, the disk', async () => {
    await fullBundle();
    const r = await runCli(['plan', '-m', join(dir, 'full.yaml'), '-o', out(), '--cache', cache()]);
    expect(r.stdout).toContain(`${join(shared, 'out', 'full.tar')}: about`);
    expect(r.code, r.stderr).toBe(0);
    for (const k of KINDS) expect(r.stdout).toMatch(new RegExp(`^${k}\\s+\\d+\\s`, 'm'));
    expect(r.stdout).toMatch(/^bundle\s+.*full\.tar: about .*\(\d+ bytes\)/m);
    expect(r.stdout).toMatch(/^disk\s+.*needs .*\(\d+ bytes\).*\(\d+ bytes\) free/m);
    expect(r.stdout).toMatch(/every artifact is available/);
  });

  it('exits 1 naming an image no source has, with the source tried and why', async () => {
    const logFrom = registry.log.length;
    const m = manifest('gone', ['docker.io/library/busybox:1.36', 'docker.io/library/no-such-image:1.0']);
    const r = await runCli(['plan', '-m', m, '-o', join(dir, 'out', 'gone.tar'), '--cache', join(dir, 'cache-gone'), '--json']);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.unavailable).toHaveLength(1);
    expect(doc.unavailable[0]).toMatchObject({ kind: 'images', name: 'docker.io/library/no-such-image:1.0' });
    expect(Object.keys(doc.unavailable[0])).toEqual(['kind', 'name', 'tried']);
    expect(doc.unavailable[0].tried).toHaveLength(1);
    expect(Object.keys(doc.unavailable[0].tried[0])).toEqual(['source', 'error']);
    expect(doc.unavailable[0].tried[0]).toMatchObject({ source: expect.stringContaining('no-such-image'), error: 'not-found' });
    expect(r.stderr).toMatch(/no-such-image:1\.0[\s\S]*not-found/);
    expect(blobGets(logFrom)).toEqual([]);
  });
});

describe('disk preflight', () => {
  it('build into a small disk stops before downloading, naming both figures, and leaves nothing behind', async () => {
    const small = tmpfs('small-out', '2m');
    const cache = join(dir, 'cache-small');
    const lock = join(dir, 'small.lock.yaml');
    const logFrom = registry.log.length;
    const fileBytes = files.bytesSent.get('/tool.bin') ?? 0;
    const r = await runCli(['build', '-m', manifest('small'), '-o', join(small, 'b', 'small.tar'), '--cache', cache, '--lock', lock]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/not enough disk space for building small 1\.0\.0/);
    expect(r.stderr).toContain(join(small, 'b'));
    const [needed, free] = byteFigures(r.stderr);
    expect(needed).toBeGreaterThan(2 * MB);
    expect(free).toBe(dfAvail(small));
    expect(readdirSync(small)).toEqual([]);
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(cache).filter((n) => n.startsWith('work-'))).toEqual([]);
    expect(blobGets(logFrom)).toEqual([]);
    expect((files.bytesSent.get('/tool.bin') ?? 0) - fileBytes).toBeLessThanOrEqual(1);
  });

  it('a cache on another, small file system is checked on its own: the downloads, naming the cache', async () => {
    const smallCache = tmpfs('small-cache', '512k');
    const outDir = join(dir, 'out-cache-small');
    const lock = join(dir, 'cache-small.lock.yaml');
    const logFrom = registry.log.length;
    const r = await runCli(['build', '-m', manifest('cachesmall', undefined, true), '-o', join(outDir, 'b.tar'), '--cache', smallCache, '--lock', lock]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`downloads into the cache in ${smallCache}: needs`);
    // The output's folder has room: it is not named as short of space.
    expect(r.stderr).not.toContain(`the bundle in ${outDir}`);
    const [needed, free] = byteFigures(r.stderr);
    expect(needed).toBeGreaterThan(512 * 1024);
    expect(free).toBe(dfAvail(smallCache));
    expect(readdirSync(smallCache).filter((n) => n.startsWith('work-'))).toEqual([]);
    expect(existsSync(outDir)).toBe(false);
    expect(existsSync(lock)).toBe(false);
    expect(blobGets(logFrom)).toEqual([]);
  });

  describe('unpacking on the taskbox', () => {
    let bundle: () => string;
    beforeAll(async () => {
      const tarball = await fullBundle();
      bundle = () => tarball;
    }, 300_000);

    it('serve of a tarball into a small data dir stops before writing, naming both figures', async () => {
      const data = tmpfs('small-serve', '8m');
      const r = await runCli(['serve', bundle(), '--data-dir', data, '--listen', '127.0.0.1', '--port', '0']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/not enough disk space for unpacking/);
      expect(r.stderr).toContain(`the unpacked bundle in ${data}`);
      const [needed, free] = byteFigures(r.stderr);
      expect(needed).toBe(statSync(bundle()).size);
      expect(free).toBe(dfAvail(data));
      expect(readdirSync(data)).toEqual([]);
    });

    it('a .tar.gz needs at least the bytes its bundle.yaml counts, however small it is compressed', async () => {
      const gz = join(dir, 'full.tar.gz');
      execFileSync('sh', ['-c', 'gzip -1 -c "$1" > "$2"', 'sh', bundle(), gz]);
      const compressed = statSync(gz).size;
      // A data dir that holds the compressed file, but not what it unpacks to.
      const data = tmpfs('small-gz', `${Math.ceil((compressed + 4 * MB) / 4096) * 4096}`);
      expect(statSync(bundle()).size).toBeGreaterThan(dfAvail(data));
      const r = await runCli(['serve', gz, '--data-dir', data, '--listen', '127.0.0.1', '--port', '0']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`the unpacked bundle in ${data}`);
      const [needed, free] = byteFigures(r.stderr);
      expect(needed).toBeGreaterThan(free);
      expect(needed).toBeGreaterThan(compressed);
      expect(readdirSync(data)).toEqual([]);
    });

    it('install --offline of a tarball into a small data dir stops the same way, leaving no state behind', async () => {
      const data = tmpfs('small-install', '8m');
      const r = await runCli(['install', '--offline', bundle(), '--only', 'init', '--data-dir', data, '--listen', '127.0.0.1', '--port', '0']);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/not enough disk space for unpacking[\s\S]*\(\d+ bytes\)[\s\S]*\(\d+ bytes\) free/);
      expect(readdirSync(data)).toEqual([]);
    });
  });
});
