/**
 * The mirror serves nothing whose real path lies outside its roots, whatever a folder bundle served with
 * `--no-verify` (as the installer runs it) holds: a mount root that is a symlink to /etc or elsewhere in the bundle,
 * a blobs folder or a pip index moved out of it, files that are symlinks or FIFOs. Served by the real CLI, asked by
 * curl and skopeo; the normal files of the same bundles are still served, byte for byte.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureImages } from '../fixtures/images/build.js';
import { sha256Hex } from '../images/support.js';
import { requireTools } from '../support/tools.js';
import { curl, serveCli, writeTestMeta, type ServedCli } from './support.js';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-BUNDLE';
const KUBEADM = randomBytes(300_000);
const RELEASE = 'Origin: ks-bundle\nSuite: bookworm\n';
let tmp: string;
const served = new Map<string, ServedCli>();
let layerDigest = '';

/** A copy of the base bundle (hard links), changed by `change`, then served as the installer serves it. */
async function variant(name: string, change: (dir: string) => void): Promise<ServedCli> {
  const dir = join(tmp, name);
  execFileSync('cp', ['-al', join(tmp, 'base'), dir]);
  change(dir);
  const s = await serveCli([dir, '--no-verify', '--listen', '127.0.0.1', '--port', '0']);
  served.set(name, s);
  return s;
}

beforeAll(async () => {
  requireTools('umoci', 'skopeo', 'curl', 'mkfifo', 'cp');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-roots-'));
  const fixture = buildFixtureImages(join(tmp, 'fixture'));
  const base = join(tmp, 'base');
  mkdirSync(join(base, 'repos'), { recursive: true });
  writeTestMeta(base, 'roots');
  await promisify(execFile)('skopeo', ['copy', '--quiet', `oci:${fixture}:busybox`, `oci:${join(base, 'repos/images')}:docker.io/library/busybox:1.36`]);
  const index = JSON.parse(readFileSync(join(base, 'repos/images/index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(base, 'repos/images/blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  layerDigest = manifest.layers[0].digest;
  mkdirSync(join(base, 'repos/files'), { recursive: true });
  writeFileSync(join(base, 'repos/files/kubeadm'), KUBEADM);
  mkdirSync(join(base, 'repos/apt/debian-12/dists/bookworm'), { recursive: true });
  writeFileSync(join(base, 'repos/apt/debian-12/dists/bookworm/Release'), RELEASE);
  mkdirSync(join(base, 'repos/pip/simple'), { recursive: true });
  writeFileSync(join(base, 'repos/pip/simple/index.html'), '<!DOCTYPE html><html><body></body></html>\n');
  mkdirSync(join(tmp, 'outside/pip/simple'), { recursive: true });
  writeFileSync(join(tmp, 'outside/secret.txt'), SECRET);
  writeFileSync(join(tmp, 'outside/pip/simple/index.html'), SECRET);

  await variant('files-to-etc', (d) => {
    rmSync(join(d, 'repos/files'), { recursive: true });
    symlinkSync('/etc', join(d, 'repos/files'));
  });
  await variant('files-to-apt', (d) => {
    rmSync(join(d, 'repos/files'), { recursive: true });
    symlinkSync('apt', join(d, 'repos/files'));
  });
  await variant('blobs-outside', (d) => {
    renameSync(join(d, 'repos/images/blobs'), join(tmp, 'outside/blobs'));
    symlinkSync(join(tmp, 'outside/blobs'), join(d, 'repos/images/blobs'));
  });
  await variant('pip-outside', (d) => {
    rmSync(join(d, 'repos/pip'), { recursive: true });
    symlinkSync(join(tmp, 'outside/pip'), join(d, 'repos/pip'));
  });
  await variant('inner-links', (d) => {
    symlinkSync('/etc/passwd', join(d, 'repos/files/passwd'));
    symlinkSync('../../../outside/secret.txt', join(d, 'repos/files/secret.txt'));
    symlinkSync('../apt/debian-12/dists/bookworm/Release', join(d, 'repos/files/Release'));
    execFileSync('mkfifo', [join(d, 'repos/files/fifo')]);
  });
  // A bundle folder reached through a symlink of the user's own (not part of the bundle) is served as usual.
  symlinkSync(join(tmp, 'base'), join(tmp, 'linked'));
  served.set('linked', await serveCli([join(tmp, 'linked'), '--no-verify', '--listen', '127.0.0.1', '--port', '0']));
}, 180_000);

afterAll(async () => {
  await Promise.all([...served.values()].map((s) => s.stop()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const url = (name: string) => served.get(name)!.url;

describe('a mount root that is a symlink serves nothing', () => {
  it('repos/files -> /etc: /files/passwd and friends are 404, the other mounts still answer', async () => {
    for (const path of ['/files/passwd', '/files/hostname', '/files/os-release', '/files/shadow']) {
      const r = await curl(url('files-to-etc') + path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toMatch(/root:/);
    }
    const release = await curl(url('files-to-etc') + '/apt/debian-12/dists/bookworm/Release');
    expect(release).toEqual({ status: 200, body: RELEASE });
  });

  it('repos/files -> repos/apt (inside the bundle, but another root): 404', async () => {
    expect((await curl(url('files-to-apt') + '/files/debian-12/dists/bookworm/Release')).status).toBe(404);
  });

  it('repos/images/blobs moved out and linked back: no manifest, no blob, skopeo fails', async () => {
    const m = await curl(url('blobs-outside') + '/v2/library/busybox/manifests/1.36', '-H', 'Accept: application/vnd.oci.image.manifest.v1+json');
    expect(m.status).toBe(404);
    const b = await curl(url('blobs-outside') + `/v2/library/busybox/blobs/${layerDigest}`);
    expect(b.status).toBe(404);
    expect(JSON.parse(b.body).errors[0].code).toBe('BLOB_UNKNOWN');
    await expect(promisify(execFile)('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${url('blobs-outside').slice(7)}/library/busybox:1.36`])).rejects.toThrow(/manifest unknown|not found|404/i);
  });

  it('repos/pip -> a folder outside: /pypi/simple/ is 404, its page never read out', async () => {
    const r = await curl(url('pip-outside') + '/pypi/simple/');
    expect(r.status).toBe(404);
    expect(r.body).not.toContain(SECRET);
  });
});

describe('files inside a root', () => {
  it('a symlink to /etc/passwd, one leading out of the bundle, one to another root, and a FIFO: 404 each', async () => {
    for (const name of ['passwd', 'secret.txt', 'Release', 'fifo']) {
      const r = await curl(`${url('inner-links')}/files/${name}`);
      expect(r.status, name).toBe(404);
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toMatch(/root:/);
    }
  });

  it('the regular files beside them are served byte for byte, with ranges', async () => {
    const out = join(tmp, 'kubeadm.out');
    await promisify(execFile)('curl', ['-sf', '-o', out, `${url('inner-links')}/files/kubeadm`]);
    expect(sha256Hex(readFileSync(out))).toBe(sha256Hex(KUBEADM));
    await promisify(execFile)('curl', ['-sf', '-r', '1000-1999', '-o', out, `${url('inner-links')}/files/kubeadm`]);
    expect(readFileSync(out).equals(KUBEADM.subarray(1000, 2000))).toBe(true);
  });

  it('a bundle folder reached through the user\'s own symlink is served whole: skopeo copies the image', async () => {
    const dest = join(tmp, 'pulled');
    await promisify(execFile)('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${url('linked').slice(7)}/library/busybox:1.36`, `oci:${dest}:x`]);
    expect(readFileSync(join(dest, 'blobs/sha256', layerDigest.slice(7))).length).toBeGreaterThan(0);
    expect((await curl(`${url('linked')}/files/kubeadm`, '-o', '/dev/null')).status).toBe(200);
  });
});

const TRICKS = [
  '/files/../../../../etc/passwd',
  '/files/..%2f..%2f..%2f..%2fetc%2fpasswd',
  '/files/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/files/%2E%2E%2F%2E%2E%2Foutside%2Fsecret.txt',
  '/files/..%5c..%5coutside%5csecret.txt',
  '/files/.%2e/.%2e/.%2e/outside/secret.txt',
  '/files/%252e%252e/%252e%252e/etc/passwd',
  '/files/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
  '/files//etc/passwd',
  '/files/passwd%00.deb',
  '/apt/../files/passwd',
  '/apt/debian-12/../../../../../etc/passwd',
  '/pypi/simple/../../../../etc/passwd',
  '/pypi/files/..%2f..%2f..%2fetc%2fpasswd',
  '/pypi/simple/files/..%2f..%2f..%2fetc%2fpasswd',
  '/v2/library/busybox/blobs/sha256:..%2f..%2f..%2f..%2fetc%2fpasswd',
];

describe('traversal spellings', () => {
  it.each(TRICKS)('%s is refused', async (path) => {
    const r = await curl(url('inner-links') + path);
    expect([400, 404]).toContain(r.status);
    expect(r.body).not.toContain(SECRET);
    expect(r.body).not.toMatch(/root:/);
  });
});
