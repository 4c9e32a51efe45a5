/**
 * The apt kind end to end against the real world: the machine's Debian 12 mirror as upstream (signatures checked
 * with debian-archive-keyring), the bundle written by the real bundle writer, served by the real mirror, and
 * consumed by real apt in a debootstrap minbase chroot whose only source is the bundle (signed-by, no trusted=yes).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectApt } from '../../src/apt/collect.js';
import { generateSigningKey, loadSigningKey } from '../../src/apt/pgp.js';
import type { KindOutput } from '../../src/collector/context.js';
import { writeBundle } from '../../src/bundle/write.js';
import { IntegrityError } from '../../src/errors.js';
import { startMirror, type RunningMirror } from '../../src/mirror/server.js';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import type { ProgressEvent } from '../../src/progress/events.js';
import { ensureRootfs } from '../testbed/rootfs.js';
import { exec as run } from './exec.js';
import { requireTools } from '../support/tools.js';
import { ALL_PACKAGES, APT_TEST_STORE, aptChroot, aptGet, aptManifest, buildContext, debianTarget, machineDebianSources, nodeAptSource } from './support.js';
import { testMeta } from '../support/bundle-meta.js';
import { testHttp } from '../support/http.js';
const http = testHttp();

const target = debianTarget('amd64');
const REPO = 'repos/apt/debian-12';
const DIST = `${REPO}/dists/bookworm`;

let work: string;
let bundleDir: string;
let first: KindOutput;
let mirror: RunningMirror;
let rootfs: string;
const mounts: string[] = [];

beforeAll(async () => {
  requireTools('chroot', 'mount', 'umount', 'gpgv', 'apt-get', 'debootstrap');
  work = mkdtempSync(join(tmpdir(), 'ks-apt-'));
  rootfs = await ensureRootfs();
  first = await collectApt(buildContext(aptManifest({ packages: ALL_PACKAGES, targets: [target] }), APT_TEST_STORE));
  bundleDir = join(work, 'bundle');
  await writeBundle({ name: 'apt-test', version: '0.0.1', entries: first.entries, meta: testMeta('apt-test', '0.0.1'), out: bundleDir, asDirectory: true, compress: 'none' });
  mirror = await startMirror({ bundleDir, mounts: BUNDLE_MOUNTS, port: 0 });
});

afterAll(async () => {
  for (const m of mounts.reverse()) await run('umount', ['-l', m], { allowFail: true });
  await mirror?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const chrootWith = (name: string, sourcesText: string, key: Buffer) => aptChroot(join(work, name), rootfs, sourcesText, key, mounts);

function file(rel: string): Buffer {
  return readFileSync(join(bundleDir, rel));
}

function sha256sum(path: string): string {
  return execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]!;
}

describe('apt repo from the real Debian 12 mirror', () => {
  it('writes a repo whose Release lists its indexes, signed with the bundle key (checked by gpgv)', () => {
    const release = file(`${DIST}/Release`).toString('utf8');
    expect(release).toMatch(/^Codename: bookworm$/m);
    expect(release).toMatch(/^Architectures: amd64$/m);
    for (const idx of ['main/binary-amd64/Packages', 'main/binary-amd64/Packages.gz']) {
      const line = release.split('\n').find((l) => l.endsWith(' ' + idx))!;
      expect(line.trim().split(/\s+/)[0]).toBe(sha256sum(join(bundleDir, DIST, idx)));
    }
    const keyring = join(bundleDir, 'repos/apt/ks-bundle.gpg');
    execFileSync('gpgv', ['--keyring', keyring, join(bundleDir, DIST, 'InRelease')], { stdio: 'pipe' });
    execFileSync('gpgv', ['--keyring', keyring, join(bundleDir, DIST, 'Release.gpg'), join(bundleDir, DIST, 'Release')], { stdio: 'pipe' });
  });

  it('every pool file matches the SHA256 its Packages stanza gives (sha256sum)', () => {
    const packages = file(`${DIST}/main/binary-amd64/Packages`).toString('utf8');
    const stanzas = packages.split('\n\n').filter(Boolean);
    expect(stanzas.length).toBeGreaterThan(100);
    for (const s of stanzas.slice(0, 400)) {
      const fn = /^Filename: (.*)$/m.exec(s)![1]!;
      const sha = /^SHA256: (.*)$/m.exec(s)![1]!;
      expect(fn.startsWith('pool/main/')).toBe(true);
      expect(sha256sum(join(bundleDir, REPO, fn)), fn).toBe(sha);
    }
  });

  it('a second build downloads nothing and gives identical bytes', async () => {
    const events: ProgressEvent[] = [];
    const again = await collectApt(buildContext(aptManifest({ packages: ALL_PACKAGES, targets: [target] }), APT_TEST_STORE, events));
    expect(events.filter((e) => e.type === 'done' && !e.cached)).toEqual([]);
    const digest = (o: KindOutput) => o.entries.map((e) => `${e.path} ${e.sha256}`).sort();
    expect(digest(again)).toEqual(digest(first));
    // And from the lock alone (--locked): the same bytes again.
    const locked = await collectApt({ ...buildContext(aptManifest({ packages: ALL_PACKAGES, targets: [target] }), APT_TEST_STORE), locked: first.lock });
    expect(digest(locked)).toEqual(digest(first));
    // A manifest that asks for more than the lock holds is refused under --locked, naming what is missing.
    const grown = { ...buildContext(aptManifest({ packages: [...ALL_PACKAGES, 'jq'], targets: [target] }), APT_TEST_STORE), locked: first.lock };
    await expect(collectApt(grown)).rejects.toThrow(/lock has no jq for target debian-12\/amd64/);
  });

  it('apt in a minbase chroot installs all three lists from the mirror, with signed-by only', async () => {
    const src = nodeAptSource(mirror.url, target);
    expect(src).toContain(`URIs: ${mirror.url}/apt/debian-12/\nSuites: bookworm\nComponents: main\nSigned-By: /etc/apt/keyrings/ks-bundle.gpg\n`);
    const root = await chrootWith('install', src, file('repos/apt/ks-bundle.gpg'));
    await aptGet(root, ['update']);
    const r = await aptGet(root, ['install', '-y', '--no-install-recommends', ...ALL_PACKAGES], true);
    expect(r.code, r.stdout.slice(-3000) + r.stderr).toBe(0);
    const status = readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8');
    for (const p of ALL_PACKAGES) expect(status).toMatch(new RegExp(`^Package: ${p.replace(/[+.]/g, '\\$&')}\\nStatus: install ok installed`, 'm'));
    expect(mirror.misses.filter((m) => !/Translation|i18n/.test(m.path))).toEqual([]);
  });

  it('apt refuses a repo whose Packages was tampered with', async () => {
    const copy = join(work, 'tampered');
    cpSync(bundleDir, copy, { recursive: true });
    const dir = join(copy, DIST, 'main/binary-amd64');
    const text = readFileSync(join(dir, 'Packages'), 'utf8').replace(/^Version: (.*)$/m, 'Version: $1+evil');
    writeFileSync(join(dir, 'Packages'), text);
    writeFileSync(join(dir, 'Packages.gz'), gzipSync(Buffer.from(text)));
    const evil = await startMirror({ bundleDir: copy, mounts: BUNDLE_MOUNTS, port: 0 });
    try {
      const root = await chrootWith('tampered', nodeAptSource(evil.url, target), file('repos/apt/ks-bundle.gpg'));
      const r = await aptGet(root, ['update'], true);
      expect(r.code).toBe(100);
      expect(r.stdout + r.stderr).toMatch(/Hash Sum mismatch|File has unexpected size/);
    } finally {
      await evil.close();
    }
  });

  it('apt refuses the repo with another key in signed-by', async () => {
    const other = await loadSigningKey(Buffer.from(await generateSigningKey('someone else', new Date('2020-01-01T00:00:00Z'))));
    const root = await chrootWith('wrongkey', nodeAptSource(mirror.url, target), Buffer.from(other.publicBinary));
    const r = await aptGet(root, ['update'], true);
    expect(r.code).toBe(100);
    expect(r.stdout + r.stderr).toMatch(/NO_PUBKEY|not signed/);
  });

  it('build refuses an upstream whose Release was changed by one byte', async () => {
    const upstream = machineDebianSources()[0]!;
    const real = Buffer.from(await (await fetch(`${upstream.url}/dists/bookworm/InRelease`)).arrayBuffer());
    const i = real.indexOf('Label: Debian');
    const tampered = Buffer.from(real);
    tampered[i + 7] = 'd'.charCodeAt(0); // Label: debian
    const releaseOnly = Buffer.from(await (await fetch(`${upstream.url}/dists/bookworm/Release`)).arrayBuffer());
    const releaseGpg = Buffer.from(await (await fetch(`${upstream.url}/dists/bookworm/Release.gpg`)).arrayBuffer());
    const tamperedRelease = Buffer.from(releaseOnly);
    tamperedRelease[releaseOnly.indexOf('Label: Debian') + 7] = 'd'.charCodeAt(0);
    const serve = (files: Record<string, Buffer>) =>
      new Promise<Server>((resolve) => {
        const s = createServer((req, res) => {
          const body = files[req.url ?? ''];
          res.writeHead(body ? 200 : 404).end(body);
        }).listen(0, '127.0.0.1', () => resolve(s));
      });
    for (const files of [
      { '/dists/bookworm/InRelease': tampered } as Record<string, Buffer>,
      { '/dists/bookworm/Release': tamperedRelease, '/dists/bookworm/Release.gpg': releaseGpg },
    ]) {
      const server = await serve(files);
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const manifest = aptManifest({ packages: ['socat'], targets: [target], sources: [{ ...upstream, url, suites: ['bookworm'] }] });
        const err = await collectApt(buildContext(manifest, join(work, 'store-tampered'))).catch((e) => e);
        expect(err).toBeInstanceOf(IntegrityError);
        expect((err as Error).message).toMatch(/signature/);
      } finally {
        await new Promise((r) => server.close(r));
      }
    }
    // The untouched Release + Release.gpg pair does verify (so the failure above is the byte, not the path).
    const server = await serve({ '/dists/bookworm/Release': releaseOnly, '/dists/bookworm/Release.gpg': releaseGpg });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { fetchSuiteRelease } = await import('../../src/apt/upstream.js');
      const rel = await fetchSuiteRelease({ ...upstream, url }, 'bookworm', { store: buildContext(aptManifest({ packages: [], targets: [] }), join(work, 'store-ok')).store, http });
      expect(rel.release.fields['Codename']).toBe('bookworm');
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(existsSync(join(work, 'store-tampered', 'sha256'))).toBe(false);
  });
});
