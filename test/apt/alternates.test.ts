/**
 * An apt source whose archive is gone (nginx over an empty folder: 404 for every path) with an alternate that is the
 * machine's real Debian mirror (through the test proxy, which records every request). The plan resolves on the
 * alternate and downloads no deb; the build then fetches exactly what the plan counted, the lock names the
 * alternate, and real apt in a minbase chroot installs from the bundle's repo served by the mirror.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectApt, planApt } from '../../src/apt/collect.js';
import type { KindOutput, KindPlan } from '../../src/collector/context.js';
import { UnavailableError } from '../../src/collector/run.js';
import { writeBundle } from '../../src/bundle/write.js';
import { startMirror } from '../../src/mirror/server.js';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import type { AptSource, Manifest } from '../../src/manifest/types.js';
import { ensureRootfs } from '../testbed/rootfs.js';
import { requireTools } from '../support/tools.js';
import { testMeta } from '../support/bundle-meta.js';
import { startNginx, type Nginx } from '../support/nginx.js';
import { startAptProxy } from '../support/world.js';
import { exec } from './exec.js';
import { DEBIAN_KEYRING, aptChroot, aptGet, aptManifest, buildContext, debianTarget, nodeAptSource } from './support.js';

// The minbase chroot has the Priority: required set; socat brings what it lacks (libwrap0, libssl3).
const target = debianTarget('amd64', 'required');
const PACKAGES = ['socat'];

let work: string;
let gone: Nginx;
let proxy: Awaited<ReturnType<typeof startAptProxy>>;
let original: AptSource;
const mounts: string[] = [];

function manifest(opts: { packages?: string[]; alternates?: boolean } = {}): Manifest {
  const m = aptManifest({ sources: [original], packages: opts.packages ?? PACKAGES, targets: [target] });
  return { ...m, alternates: opts.alternates === false ? [] : [{ prefix: `${gone.url}/debian`, to: [proxy.url] }] };
}

const debGets = () => proxy.requests.filter((r) => r.path.endsWith('.deb'));

beforeAll(async () => {
  requireTools('nginx', 'chroot', 'mount', 'umount', 'apt-get', 'debootstrap');
  work = mkdtempSync(join(tmpdir(), 'ks-apt-alt-'));
  mkdirSync(join(work, 'empty'));
  gone = await startNginx(join(work, 'empty'));
  proxy = await startAptProxy({ anyPort: true });
  original = { name: 'debian', url: `${gone.url}/debian`, suites: ['bookworm'], components: ['main'], keyring: DEBIAN_KEYRING };
}, 120_000);

afterAll(async () => {
  for (const m of mounts.reverse()) await exec('umount', ['-l', m], { allowFail: true });
  await proxy?.close();
  await gone?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('apt archive alternates', () => {
  let plan: KindPlan;
  let out: KindOutput;
  const store = () => join(work, 'store');

  it('plans on the alternate after the original answers 404, with figures from the index and no deb downloaded', async () => {
    plan = await planApt(buildContext(manifest(), store()));
    expect(plan.unavailable).toEqual([]);
    const debs = plan.kinds.debs!;
    expect(debs.count).toBeGreaterThanOrEqual(2);
    expect(debs.cachedBytes).toBe(0);
    expect(debGets()).toEqual([]);
    // The original was asked first, and said 404 to both forms of the Release.
    const asked = gone.log().map((l) => `${l.method} ${l.path} ${l.status}`);
    expect(asked).toEqual(['GET /debian/dists/bookworm/InRelease 404', 'GET /debian/dists/bookworm/Release 404']);
    expect(proxy.requests.some((r) => r.path === '/debian/dists/bookworm/InRelease')).toBe(true);
  }, 300_000);

  it('fetches exactly what the plan counted, from the alternate, and the lock says so', async () => {
    out = await plan.fetch();
    const pool = out.entries.filter((e) => e.file);
    expect(pool.length).toBe(plan.kinds.debs!.count);
    expect(pool.reduce((n, e) => n + statSync(e.file!).size, 0)).toBe(plan.kinds.debs!.bytes);
    expect(debGets().map((r) => r.method)).toEqual(pool.map(() => 'GET'));
    const generated = out.entries.filter((e) => e.data).reduce((n, e) => n + e.size, 0);
    expect(plan.generatedBytes).toBe(generated);
    const debLocks = out.lock.filter((l) => l.kind === 'deb');
    expect(debLocks.map((l) => l.name)).toContain(`debian-12/amd64/socat=${debLocks.find((l) => l.extra?.['pkg'] === 'socat')!.version}:amd64`);
    for (const l of debLocks) expect(l.source.startsWith(`${proxy.url}/pool/main/`), l.source).toBe(true);
    for (const l of out.lock.filter((x) => x.kind === 'index')) expect(l.source.startsWith(`${proxy.url}/dists/bookworm/`), l.source).toBe(true);
  }, 300_000);

  it('real apt in a minbase chroot installs socat from the bundle the mirror serves', async () => {
    const bundleDir = join(work, 'bundle');
    await writeBundle({ name: 'apt-alt', version: '0.0.1', entries: out.entries, meta: testMeta('apt-alt', '0.0.1'), out: bundleDir, asDirectory: true, compress: 'none' });
    const mirror = await startMirror({ bundleDir, mounts: BUNDLE_MOUNTS, port: 0 });
    try {
      const root = await aptChroot(join(work, 'chroot'), await ensureRootfs(), nodeAptSource(mirror.url, target), readFileSync(join(bundleDir, 'repos/apt/ks-bundle.gpg')), mounts);
      await aptGet(root, ['update']);
      const r = await aptGet(root, ['install', '-y', '--no-install-recommends', ...PACKAGES], true);
      expect(r.code, r.stdout.slice(-3000) + r.stderr).toBe(0);
      expect(readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8')).toMatch(/^Package: socat\nStatus: install ok installed/m);
      expect(mirror.misses.filter((m) => !/Translation|i18n/.test(m.path))).toEqual([]);
    } finally {
      await mirror.close();
    }
  }, 300_000);

  it('with --locked plans from the lock alone (no request) and finds everything in the cache', async () => {
    const before = proxy.requests.length + gone.log().length;
    const locked = await planApt({ ...buildContext(manifest(), store()), locked: out.lock });
    expect(proxy.requests.length + gone.log().length).toBe(before);
    expect(locked.kinds.debs).toEqual({ ...plan.kinds.debs, cachedBytes: plan.kinds.debs!.bytes });
    expect(locked.generatedBytes).toBe(plan.generatedBytes);
  });

  it('with --locked fetches a deb whose locked archive is gone from the alternate, and the new lock says so', async () => {
    const stale = out.lock.map((l) => (l.kind === 'deb' ? { ...l, source: l.source.replace(proxy.url, `${gone.url}/debian`) } : l));
    const again = await collectApt({ ...buildContext(manifest(), join(work, 'store-locked')), locked: stale });
    expect(again.lock).toEqual(out.lock);
    // The same repo (another cache, so another generated signing key: the signed files differ).
    const unsigned = (o: KindOutput) => o.entries.filter((e) => !/ks-bundle\.gpg|InRelease|Release\.gpg/.test(e.path)).map((e) => `${e.path} ${e.sha256}`);
    expect(unsigned(again)).toEqual(unsigned(out));
    expect(gone.log().filter((l) => l.path.endsWith('.deb')).map((l) => l.status)).toEqual(out.lock.filter((l) => l.kind === 'deb').map(() => 404));
  }, 300_000);

  it('lists what no archive has: the suite without alternates, a pinned version nobody carries', async () => {
    const noAlt = await planApt(buildContext(manifest({ alternates: false }), join(work, 'store-none')));
    expect(noAlt.unavailable).toEqual([
      { kind: 'debs', name: 'debian bookworm (its Release)', tried: [{ source: `${gone.url}/debian/dists/bookworm/`, error: 'not-found', message: expect.stringContaining('404') }] },
    ]);
    const err = await collectApt(buildContext(manifest({ alternates: false }), join(work, 'store-none'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).exitCode).toBe(1);
    const pinned = await planApt(buildContext(manifest({ packages: ['socat=0.0-nowhere'] }), store()));
    expect(pinned.unavailable).toEqual([
      { kind: 'debs', name: 'socat (= 0.0-nowhere)', tried: [{ source: `${proxy.url}/dists/bookworm/`, error: 'not-found', message: expect.stringMatching(/socat has 1\.7/) }] },
    ]);
  }, 120_000);
});
