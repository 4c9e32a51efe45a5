/** Shared set-up of the apt tests: the machine's Debian mirror as upstream, a build context, a bundle on disk. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from './exec.js';
import type { BuildContext } from '../../src/collector/context.js';
import type { AptSource, Manifest, Target } from '../../src/manifest/types.js';
import { KNOWN_OS } from '../../src/manifest/targets.js';
import type { ProgressEvent } from '../../src/progress/events.js';
import { debianMirrorUrl } from '../testbed/apt-sources.js';
import { aptSource } from '../../src/nodes/wiring-files.js';
import { NODE_KEYRING_PATH } from '../../src/apt/repo.js';
import { testContext, testManifest } from '../support/context.js';

export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Shared between runs so the debs are fetched once per machine; blobs enter it only after their digest matched. */
export const APT_TEST_STORE = '/var/cache/ks-bundle-test/apt-store';

export const LISTS = {
  k8sPrereqs: ['socat', 'conntrack', 'ebtables', 'ipset', 'ipvsadm', 'chrony', 'nfs-common'],
  python: ['python3-venv', 'python3-pip', 'containerd'],
  storage: ['ceph-common', 'glusterfs-client'],
};
export const ALL_PACKAGES = [...LISTS.k8sPrereqs, ...LISTS.python, ...LISTS.storage];

/** bookworm + bookworm-updates and bookworm-security, from the URLs this machine's apt uses (read at run time). */
export function machineDebianSources(): AptSource[] {
  return [
    { name: 'debian', url: debianMirrorUrl('bookworm'), suites: ['bookworm', 'bookworm-updates'], components: ['main'], keyring: DEBIAN_KEYRING },
    { name: 'debian-security', url: debianMirrorUrl('bookworm-security'), suites: ['bookworm-security'], components: ['main'], keyring: DEBIAN_KEYRING },
  ];
}

export function debianTarget(arch: 'amd64' | 'arm64', baseline: Target['baseline'] = 'none'): Target {
  const f = KNOWN_OS['debian-12']!;
  return { os: 'debian-12', arch, python: f.python, distro: f.distro, codename: f.codename, glibc: f.glibc, baseline };
}

export function aptManifest(opts: { sources?: AptSource[]; packages: string[]; targets: Target[]; recommends?: boolean }): Manifest {
  return testManifest({
    name: 'apt-test',
    targets: opts.targets,
    apt: { sources: opts.sources ?? machineDebianSources(), packages: opts.packages, recommends: opts.recommends ?? false },
  });
}

export function buildContext(manifest: Manifest, storeRoot: string, events: ProgressEvent[] = []): BuildContext {
  // The apt collector writes nothing in workDir: none is made, so nothing is left behind.
  return testContext(manifest, { store: storeRoot, onProgress: (e) => events.push(e), concurrency: 6, retry: { retries: 3 } });
}

/** The apt source a node gets for the bundle's repo: the installer's own call (install/wiring-plan.ts), bytes and all. */
export function nodeAptSource(mirrorUrl: string, target: { os: string; codename: string }, signedBy = NODE_KEYRING_PATH): string {
  return aptSource({ mirrorUrl, repo: target.os, suites: [target.codename], components: ['main'], signedBy });
}

/**
 * A throwaway overlay of the cached minbase tree (`rootfs`) at `base`/root whose only apt source is `sourcesText`
 * with `key` as keyring. The mount is pushed on `mounts`, for the caller's teardown to undo.
 */
export async function aptChroot(base: string, rootfs: string, sourcesText: string, key: Buffer, mounts: string[]): Promise<string> {
  for (const d of ['upper', 'work', 'root']) mkdirSync(join(base, d), { recursive: true });
  const root = join(base, 'root');
  await exec('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${rootfs},upperdir=${join(base, 'upper')},workdir=${join(base, 'work')}`, root]);
  mounts.push(root);
  rmSync(join(root, 'etc/apt/sources.list'), { force: true });
  for (const f of readdirSync(join(root, 'etc/apt/sources.list.d'))) rmSync(join(root, 'etc/apt/sources.list.d', f));
  rmSync(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
  mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
  mkdirSync(join(root, 'etc/apt/keyrings'), { recursive: true });
  writeFileSync(join(root, 'etc/apt/sources.list.d/ks-bundle.sources'), sourcesText);
  writeFileSync(join(root, 'etc/apt/keyrings/ks-bundle.gpg'), key, { mode: 0o644 });
  // No service may start in the chroot.
  writeFileSync(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  return root;
}

const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
export const aptGet = (root: string, args: string[], allowFail = false) => exec('chroot', [root, 'apt-get', ...args], { env: aptEnv, allowFail });
