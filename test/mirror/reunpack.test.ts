/**
 * A bundle unpacked again under a running mirror (a new tarball of the same name and version replaces the folder) is served fresh by every mount:
 * the same tag now names another image (an index.json of the same size), and the pip index gained a project. Real bundle writer and unpacker, the mirror as `serve` composes
 * it, skopeo and pip as the clients.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBundle } from '../../src/bundle/open.js';
import { writeBundle } from '../../src/bundle/write.js';
import type { BundleEntry } from '../../src/bundle/entry.js';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import { startMirror, type RunningMirror } from '../../src/mirror/server.js';
import { collectPip } from '../../src/pip/collect.js';
import { buildFixtureImages } from '../fixtures/images/build.js';
import { isolatedPipEnv, serveStatic, wheelFixture, type StaticServer } from '../fixtures/wheels/fixture.js';
import { context, tempDir } from '../pip/helpers.js';
import { requireTools } from '../support/tools.js';
import { testMeta } from '../support/bundle-meta.js';

const run = promisify(execFile);
let tmp: string;
let upstream: StaticServer;
let mirror: RunningMirror;
let dest: string;
const tarballs: string[] = [];
const digests: string[] = [];

function treeEntries(dir: string, under: string): BundleEntry[] {
  const out: BundleEntry[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: `${under}/${relative(dir, p)}`, file: p, size: statSync(p).size });
    }
  };
  walk(dir);
  return out;
}

beforeAll(async () => {
  requireTools('umoci', 'skopeo', 'python3', 'dpkg');
  tmp = tempDir('reunpack');
  upstream = await serveStatic(wheelFixture());
  const fixture = buildFixtureImages(join(tmp, 'fixture'));
  // Two versions of one bundle: `box:1.0` is the busybox image, then the app image; pip gains Jinja2.
  for (const [i, [image, reqs]] of ([['busybox', ['netaddr']], ['app', ['netaddr', 'Jinja2']]] as const).entries()) {
    const layout = join(tmp, `layout${i}`);
    await run('skopeo', ['copy', '--quiet', `oci:${fixture}:${image}`, `oci:${layout}:docker.io/library/box:1.0`]);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    digests.push(index.manifests[0].digest);
    const pip = await collectPip(context(`${upstream.url}/simple/`, [...reqs]));
    const entries = [...pip.entries, ...treeEntries(layout, 'repos/images')];
    const out = join(tmp, `re-${i}.tar`);
    await writeBundle({ name: 're', version: '1', entries, meta: testMeta('re', '1'), out, asDirectory: false, compress: 'none' });
    tarballs.push(out);
  }
  dest = await unpack(tarballs[0]!);
  mirror = await startMirror({ bundleDir: dest, mounts: BUNDLE_MOUNTS, port: 0 });
}, 240_000);

afterAll(async () => {
  await mirror?.close();
  await upstream?.close();
});

/** As `serve` and the installer unpack a tarball: verified, into `<data>/<name>-<version>/`, replacing what was there. */
const unpack = async (tarball: string) => (await (await openBundle(tarball)).unpack({ dataDir: join(tmp, 'data') })).dir;

const inspectDigest = async () => {
  const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${mirror.url.slice(7)}/library/box:1.0`], { encoding: 'buffer' });
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
};

const pipDownload = (project: string) =>
  run('/usr/bin/python3', ['-m', 'pip', 'download', '--isolated', '--disable-pip-version-check', '--no-cache-dir', '--no-deps', '-d', tempDir('dl'), '--index-url', `${mirror.url}/pypi/simple/`, project], { env: isolatedPipEnv() });

it('serves the first unpack, then the second one fresh, with the mirror still running', async () => {
  expect(digests[0]).not.toBe(digests[1]);
  expect(await inspectDigest()).toBe(digests[0]);
  await pipDownload('netaddr');
  await expect(pipDownload('Jinja2')).rejects.toThrow(/No matching distribution found for Jinja2/);

  expect(await unpack(tarballs[1]!)).toBe(dest);

  expect(await inspectDigest()).toBe(digests[1]);
  const { stdout } = await pipDownload('Jinja2');
  expect(stdout).toMatch(/Saved .*Jinja2-3\.1\.2-py3-none-any\.whl/);
}, 180_000);
