/** Shared set-up of the apt tests: the machine's Debian mirror as upstream, a build context, a bundle on disk. */
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
