import { describe, expect, it } from 'vitest';
import { parseLock, renderLock, renderLockBeside, type Lock } from '../../../src/lock/lock.js';

const H = (c: string) => c.repeat(64);
/** A lock as builds write them: a delta's base, every kind, names YAML must quote, extras nested. */
const lock: Lock = {
  apiVersion: 'ks-bundle/v1',
  kind: 'BundleLock',
  manifest: { name: 'kubesphere', version: '3.4.1', sha256: H('a') },
  base: { name: 'kubesphere', version: '3.4.0', sha256sums: H('b') },
  artifacts: [
    { kind: 'wheel', name: 'PyYAML-6.0.1-cp311-cp311-manylinux_2_17_x86_64.whl', source: 'https://files.pythonhosted.org/packages/x/PyYAML.whl', size: 757_000, sha256: H('c') },
    { kind: 'image', name: 'docker.io/kubesphere/ks-installer:v3.4.1', source: 'docker.io/kubesphere/ks-installer:v3.4.1', size: 1_024, sha256: H('d'), extra: { digest: `sha256:${H('d')}`, platforms: ['linux/amd64'], leftOut: [] } },
    { kind: 'deb', name: 'socat', version: '1.7.4.4-2', source: 'http://deb.debian.org/debian/pool/main/s/socat/socat_1.7.4.4-2_amd64.deb', size: 370_000, sha256: H('e'), extra: { os: 'debian-12', arch: 'amd64', repoDate: '1970-01-01T00:00:00.000Z' } },
    { kind: 'file', name: 'weird: name # with *yaml* [chars]', source: 'https://example.invalid/a?b=c', size: 1, sha256: H('f') },
    { kind: 'runtime', name: 'node-amd64', version: '24.21.0', source: 'local', size: 100_000_000, sha256: H('0') },
  ],
};

describe('renderLockBeside', () => {
  it('gives the bytes renderLock gives for the lock with its bundle, and parses back to it', () => {
    const bundle = { name: 'kubesphere', version: '3.4.1', sha256sums: H('9') };
    const text = renderLockBeside(renderLock(lock), bundle);
    expect(text).toBe(renderLock({ ...lock, bundle }));
    expect(parseLock(text, 'x.lock.yaml').bundle).toEqual(bundle);
  });
});
