/**
 * Path tricks against the mirror's /v2/ (and /files/): encoded `..`, encoded slashes, backslashes, NUL, a blob
 * file replaced by a symlink leading out of the bundle. Every answer is 400 or 404, and never the secret.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectImages } from '../../src/images/collect.js';
import { startMirror, type RunningMirror } from '../../src/mirror/server.js';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import { requireTools } from '../support/tools.js';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { imagesContext, layOut, rawGet, startRegistry, type Registry } from './support.js';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-BUNDLE';
let tmp: string;
let registry: Registry;
let mirror: RunningMirror;
let bundleDir: string;
let layer = '';

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-sec-'));
  registry = await startRegistry(join(tmp, 'registry'));
  await pushFixture(buildFixtureImages(join(tmp, 'fixture')), 'app', `${registry.host}/library/app:1.0`);
  const out = await collectImages(imagesContext({ cache: join(tmp, 'cache'), workDir: join(tmp, 'w'), images: ['app:1.0'], registries: { 'docker.io': { endpoint: registry.host, insecure: true } } }));
  bundleDir = join(tmp, 'bundle');
  layOut(out, bundleDir);
  await registry.stop();
  writeFileSync(join(tmp, 'secret.txt'), SECRET);
  writeFileSync(join(bundleDir, 'repos', 'secret.txt'), SECRET);
  mkdirSync(join(bundleDir, 'repos/files'), { recursive: true });
  // One layer of the bundle is now a symlink to a file outside it.
  layer = out.lock.filter((e) => e.kind === 'blob' && String(e.extra?.mediaType).includes('layer'))[0]!.name;
  const file = join(bundleDir, 'repos/images/blobs/sha256', layer.slice(7));
  unlinkSync(file);
  symlinkSync(join(tmp, 'secret.txt'), file);
  mirror = await startMirror({ bundleDir, mounts: BUNDLE_MOUNTS, port: 0 });
}, 120_000);

afterAll(async () => {
  await mirror?.close();
  await registry?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const TRICKS = [
  '/v2/../repos/secret.txt',
  '/v2/..%2f..%2frepos%2fsecret.txt',
  '/v2/%2e%2e/%2e%2e/secret.txt/manifests/x',
  '/v2/library/app/blobs/sha256:..%2f..%2f..%2fsecret.txt',
  '/v2/library/app/blobs/sha256%3a..%2f..%2fsecret.txt',
  '/v2/library/app/manifests/..%2F..%2F..%2Fsecret.txt',
  '/v2/library/app/manifests/../../../secret.txt',
  '/v2/library/app/manifests/%2e%2e%2f%2e%2e%2findex.json',
  '/v2/library%2f..%2f..%2fapp/manifests/1.0',
  '/v2/library/app%00/manifests/1.0',
  '/v2/library\\..\\..\\secret.txt/manifests/1.0',
  '/v2/library//app/manifests/1.0',
  '/v2/docker.io/../../secret.txt/manifests/1.0',
  '/v2/library/app/blobs/../../../../secret.txt',
  '/v2/library/app/tags/list/../../../../secret.txt',
  '/v2/library/app/manifests/1.0?ns=../../secret.txt',
  '/v2/library/app/blobs/sha256:' + 'a'.repeat(64) + '/../../index.json',
  '/files/../repos/secret.txt',
  '/files/..%2fsecret.txt',
  '/files/%2e%2e/secret.txt',
  '/files/%2e%2e%2f%2e%2e%2fsecret.txt',
  '/files/..%5csecret.txt',
];

it.each(TRICKS)('%s is refused', async (path) => {
  const res = await rawGet(mirror.url, path);
  expect([400, 404]).toContain(res.status);
  expect(res.body).not.toContain(SECRET);
});

it('a blob that is a symlink leading out of the bundle is not served', async () => {
  const res = await rawGet(mirror.url, `/v2/library/app/blobs/${layer}`);
  expect(res.status).toBe(404);
  expect(res.body).not.toContain(SECRET);
  expect(JSON.parse(res.body).errors[0].code).toBe('BLOB_UNKNOWN');
});

it('a blob of another repository is not served under this one', async () => {
  const res = await rawGet(mirror.url, `/v2/library/app/blobs/sha256:${'b'.repeat(64)}`);
  expect(res.status).toBe(404);
  expect(readFileSync(join(bundleDir, 'repos/images/index.json'), 'utf8')).toContain('docker.io/library/app:1.0');
});

it('writes get 405', async () => {
  for (const method of ['PUT', 'POST', 'PATCH', 'DELETE']) {
    const res = await fetch(`${mirror.url}/v2/library/app/blobs/uploads/`, { method });
    expect(res.status).toBe(405);
  }
});
