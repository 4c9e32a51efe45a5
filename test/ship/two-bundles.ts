/**
 * Two small real bundles built by the real CLI from local upstreams, one release apart, for diff, SBOM and delta:
 *   OLD ship 1.0.0: docker.io/library/busybox:1.36 (the busybox fixture), debs [socat], wheel netaddr, files a.bin, b.bin
 *   NEW ship 1.1.0: busybox:1.36 moved to another image (the app fixture), debs [socat, ipset], a.bin changed, b.bin same
 * Upstreams (all on loopback, ports the system picks): docker-registry, the repacked-Debian wheel index, a read-only
 * proxy to this machine's Debian mirror, and a file server.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { serveStatic, wheelFixture } from '../fixtures/wheels/fixture.js';
import { startRegistry } from '../images/support.js';
import { runCli } from '../support/cli.js';
import { startFaultUpstream } from '../support/fault-upstream.js';
import { sha256sum } from '../support/sha256sum.js';
import { startAptProxy } from '../support/world.js';
import { manifestHead } from '../support/manifest-head.js';

export interface TwoBundles {
  old: string;
  new: string;
  cache: string;
  /** Build a third manifest (NEW's content) with extra arguments, e.g. `--since OLD`. */
  buildNew(out: string, extra: string[]): Promise<{ code: number | null; stderr: string; stdout: string }>;
  files: { aOld: string; aNew: string; b: string };
  close(): Promise<void>;
}

export const OLD_DEBS = ['socat'];
export const NEW_DEBS = ['socat', 'ipset'];

function manifest(o: { version: string; registry: string; wheels: string; apt: string; files: string; debs: string[]; sums: Record<string, string> }): string {
  return `${manifestHead('ship', o.version)}  registries:
    docker.io: {endpoint: "${o.registry}", insecure: true}
  images:
    - docker.io/library/busybox:1.36
  apt:
    sources:
      - {name: debian, url: "${o.apt}", suites: [bookworm], components: [main], keyring: /usr/share/keyrings/debian-archive-keyring.gpg}
    packages: [${o.debs.join(', ')}]
  pip:
    index: ${o.wheels}/simple/
    requirements: [netaddr]
  files:
    - {url: "${o.files}/a.bin", sha256: ${o.sums['a.bin']}}
    - {url: "${o.files}/b.bin", sha256: ${o.sums['b.bin']}}
`;
}

export async function buildTwoBundles(dir: string): Promise<TwoBundles> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const registry = await startRegistry(join(dir, 'registry'));
    closers.push(() => registry.stop());
    const layout = buildFixtureImages(join(dir, 'images'));
    await pushFixture(layout, 'busybox', `${registry.host}/library/busybox:1.36`);
    const wheels = await serveStatic(wheelFixture());
    closers.push(() => wheels.close());
    const apt = await startAptProxy({ anyPort: true });
    closers.push(() => apt.close());
    const up = join(dir, 'up');
    await mkdir(up, { recursive: true });
    const files = await startFaultUpstream(up);
    closers.push(() => files.close());
    const cache = join(dir, 'cache');
    const base = { registry: registry.host, wheels: wheels.url, apt: apt.url, files: files.url };

    await writeFile(join(up, 'a.bin'), randomBytes(1_500_000));
    await writeFile(join(up, 'b.bin'), randomBytes(2_500_000));
    await copyFile(join(up, 'a.bin'), join(dir, 'a-old.bin'));
    const sums = () => ({ 'a.bin': sha256sum(join(up, 'a.bin')), 'b.bin': sha256sum(join(up, 'b.bin')) });
    await writeFile(join(dir, 'old.yaml'), manifest({ ...base, version: '1.0.0', debs: OLD_DEBS, sums: sums() }));
    const old = join(dir, 'out', 'ship-1.0.0.tar');
    const r1 = await runCli(['build', '-m', join(dir, 'old.yaml'), '-o', old, '--cache', cache]);
    if (r1.code !== 0) throw new Error(`build OLD: ${r1.stderr}`);

    // The next release: the tag moved, one deb more, a.bin changed.
    await pushFixture(layout, 'app', `${registry.host}/library/busybox:1.36`);
    await writeFile(join(up, 'a.bin'), randomBytes(1_500_000));
    await writeFile(join(dir, 'new.yaml'), manifest({ ...base, version: '1.1.0', debs: NEW_DEBS, sums: sums() }));
    const neu = join(dir, 'out', 'ship-1.1.0.tar');
    const buildNew = (out: string, extra: string[]) => runCli(['build', '-m', join(dir, 'new.yaml'), '-o', out, '--cache', cache, ...extra]);
    const r2 = await buildNew(neu, []);
    if (r2.code !== 0) throw new Error(`build NEW: ${r2.stderr}`);
    return { old, new: neu, cache, buildNew, files: { aOld: join(dir, 'a-old.bin'), aNew: join(up, 'a.bin'), b: join(up, 'b.bin') }, close };
  } catch (err) {
    await close();
    throw err;
  }
}
