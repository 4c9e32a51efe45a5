/**
 * Several targets in one bundle (amd64 + arm64 of debian-12 sharing one cache and one pool), baselines and
 * Recommends, and the handler's refusal to leave the repo tree. The arm64 side is checked with a real client:
 * host apt configured for arm64 with an empty dpkg status, reading only the bundle's repo through the mirror.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectApt } from '../../src/apt/collect.js';
import { planTarget } from '../../src/apt/plan.js';
import { ResolveError } from '../../src/apt/resolve.js';
import type { ArchiveChoices } from '../../src/apt/archives.js';
import type { KindOutput } from '../../src/collector/context.js';
import { writeBundle } from '../../src/bundle/write.js';
import { startMirror, type RunningMirror } from '../../src/mirror/server.js';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import { ContentStore } from '../../src/store/content-store.js';
import { requireTools } from '../support/tools.js';
import { exec } from './exec.js';
import { APT_TEST_STORE, LISTS, aptManifest, buildContext, debianTarget, nodeAptSource } from './support.js';
import { testMeta } from '../support/bundle-meta.js';
import { testHttp } from '../support/http.js';
const http = testHttp();

let work: string;
let out: KindOutput;
let mirror: RunningMirror;
let bundleDir: string;
const releases = new Map() as ArchiveChoices;
const store = new ContentStore(APT_TEST_STORE);

beforeAll(async () => {
  requireTools('apt-get');
  work = mkdtempSync(join(tmpdir(), 'ks-apt-targets-'));
  const manifest = aptManifest({ packages: LISTS.k8sPrereqs, targets: [debianTarget('amd64'), debianTarget('arm64')] });
  out = await collectApt(buildContext(manifest, APT_TEST_STORE));
  bundleDir = join(work, 'bundle');
  await writeBundle({ name: 'apt-targets', version: '0.0.1', entries: out.entries, meta: testMeta('apt-targets', '0.0.1'), out: bundleDir, asDirectory: true, compress: 'none' });
  mirror = await startMirror({ bundleDir, mounts: BUNDLE_MOUNTS, port: 0 });
});

afterAll(async () => {
  await mirror?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('two architectures of one OS', () => {
  it('one Release for both, one pool, arch:all debs stored once', () => {
    const release = readFileSync(join(bundleDir, 'repos/apt/debian-12/dists/bookworm/Release'), 'utf8');
    expect(release).toMatch(/^Architectures: amd64 arm64$/m);
    expect(release).toMatch(/ main\/binary-arm64\/Packages$/m);
    const paths = out.entries.map((e) => e.path);
    expect(new Set(paths).size).toBe(paths.length);
    const all = paths.filter((p) => p.endsWith('_all.deb'));
    expect(all.length).toBeGreaterThan(0);
    const arm = readFileSync(join(bundleDir, 'repos/apt/debian-12/dists/bookworm/main/binary-arm64/Packages'), 'utf8');
    const amd = readFileSync(join(bundleDir, 'repos/apt/debian-12/dists/bookworm/main/binary-amd64/Packages'), 'utf8');
    expect(arm).toMatch(/^Architecture: arm64$/m);
    expect(arm).not.toMatch(/^Architecture: amd64$/m);
    expect(amd).not.toMatch(/^Architecture: arm64$/m);
    // The lock names each deb once per target, with what is needed to rebuild it.
    const debs = out.lock.filter((l) => l.kind === 'deb');
    expect(debs.some((l) => l.extra?.['targetArch'] === 'arm64')).toBe(true);
    expect(out.lock.filter((l) => l.kind === 'index').map((l) => l.name)).toContain('debian/bookworm/main/binary-arm64/Packages');
  });

  it('host apt for arm64 (empty status) resolves the list from the bundle repo alone; every URI is served', async () => {
    const dir = join(work, 'apt-arm64');
    for (const d of ['lists/partial', 'cache/archives/partial', 'etc/sources.list.d']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'status'), '');
    // The source a node gets, with the bundle's key where this host apt can read it.
    writeFileSync(join(dir, 'etc/sources.list.d/ks-bundle.sources'), nodeAptSource(mirror.url, debianTarget('arm64'), join(bundleDir, 'repos/apt/ks-bundle.gpg')));
    const args = [
      '-o', 'Dir::Etc::SourceList=/dev/null', '-o', `Dir::Etc::SourceParts=${join(dir, 'etc/sources.list.d')}`,
      '-o', `Dir::State::Lists=${join(dir, 'lists')}`, '-o', `Dir::State::status=${join(dir, 'status')}`,
      '-o', `Dir::Cache=${join(dir, 'cache')}`, '-o', 'APT::Sandbox::User=root', '-o', 'Debug::NoLocking=1',
      '-o', 'APT::Architecture=arm64', '-o', 'APT::Architectures=arm64', '-o', 'Acquire::Languages=none',
      '-o', 'Dir::Etc::Preferences=/dev/null', '-o', 'Dir::Etc::PreferencesParts=/dev/null',
    ];
    await exec('apt-get', [...args, 'update']);
    const r = await exec('apt-get', [...args, '-y', '--print-uris', '--no-install-recommends', 'install', ...LISTS.k8sPrereqs]);
    const uris = [...r.stdout.matchAll(/^'([^']+\.deb)'/gm)].map((m) => m[1]!);
    expect(uris.length).toBeGreaterThan(40); // from an empty system: the essential set comes along
    expect(uris.every((u) => u.startsWith(`${mirror.url}/apt/debian-12/pool/main/`))).toBe(true);
    for (const u of uris.filter((_, i) => i % 7 === 0)) {
      const res = await fetch(u, { method: 'HEAD' });
      expect(res.status, u).toBe(200);
    }
  });

  it('the handler serves nothing outside repos/apt, by any spelling', async () => {
    const ok = await fetch(`${mirror.url}/apt/debian-12/dists/bookworm/Release`);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    for (const p of ['/apt/debian-12/%2e%2e/%2e%2e/bundle.yaml', '/apt/..%2f..%2fSHA256SUMS', '/apt/debian-12/dists/../../../SHA256SUMS', '/apt/%2fetc%2fpasswd']) {
      const res = await fetch(mirror.url + p);
      await res.arrayBuffer();
      expect(res.status, p).toBe(404);
    }
    const put = await fetch(`${mirror.url}/apt/debian-12/dists/bookworm/Release`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
  });
});

describe('baselines and Recommends (same upstream, no downloads)', () => {
  const plan = (baseline: 'none' | 'required', recommends = false) => {
    const m = aptManifest({ packages: LISTS.k8sPrereqs, targets: [], recommends });
    return planTarget(debianTarget('amd64', baseline), m.apt!, m.file, releases, { store, http });
  };

  it('baseline required leaves out the Priority required / Essential closure; none carries it', async () => {
    const none = await plan('none');
    const required = await plan('required');
    const names = (p: typeof none) => new Set(p.debs.map((d) => d.name));
    expect(names(none).has('libc6')).toBe(true);
    expect(names(required).has('libc6')).toBe(false);
    expect(names(required).has('socat')).toBe(true);
    for (const n of names(required)) expect(names(none).has(n), n).toBe(true);
  });

  it('an unsatisfiable request fails naming the chain and what the index offers', async () => {
    const m = aptManifest({ packages: ['socat (>= 99)', 'kubelet', 'conntrack'], targets: [] });
    const err = await planTarget(debianTarget('amd64'), m.apt!, m.file, releases, { store, http }).catch((e) => e);
    expect(err).toBeInstanceOf(ResolveError);
    expect((err as Error).message).toMatch(/socat \(>= 99\): socat has 1\.7\.\S+/);
    expect((err as Error).message).toContain('kubelet: the index has no kubelet for amd64');
    expect((err as Error).message).not.toContain('conntrack');
  });

  it('Recommends are off by default and followed when asked', async () => {
    const off = await plan('none');
    const on = await plan('none', true);
    expect(on.debs.length).toBeGreaterThan(off.debs.length);
    const offNames = new Set(off.debs.map((d) => d.name));
    for (const d of off.debs) expect(on.debs.some((x) => x.name === d.name), d.name).toBe(true);
    expect(on.debs.filter((d) => !offNames.has(d.name)).some((d) => d.chain.length > 1)).toBe(true);
  });
});
