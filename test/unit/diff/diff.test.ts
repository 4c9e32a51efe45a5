import { describe, expect, it } from 'vitest';
import { diffArtifacts } from '../../../src/diff/diff.js';
import type { LockEntry } from '../../../src/lock/entry.js';

const H = (c: string) => c.repeat(64);
const image = (name: string, d: string): LockEntry => ({ kind: 'image', name, source: 'docker.io/library/x', size: 1, sha256: H(d), extra: { digest: `sha256:${H(d)}` } });
const blob = (d: string): LockEntry => ({ kind: 'blob', name: `sha256:${H(d)}`, source: 'x', size: 1, sha256: H(d) });
const deb = (pkg: string, version: string, arch = 'amd64'): LockEntry => ({ kind: 'deb', name: `debian-12/${arch}/${pkg}=${version}:${arch}`, version, source: 'u', size: 1, sha256: H('d'), extra: { pkg, arch } });
const wheel = (file: string, project: string, version: string): LockEntry => ({ kind: 'wheel', name: file, version, source: 'u', size: 1, sha256: H('e'), extra: { project } });

describe('diffArtifacts', () => {
  it('a moved tag is one change from digest to digest, and its layers are never listed', () => {
    const d = diffArtifacts([image('docker.io/library/busybox:1.36', 'a'), blob('1')], [image('docker.io/library/busybox:1.36', 'b'), blob('2')]);
    expect(d).toEqual({ added: [], removed: [], changed: [{ kind: 'image', name: 'docker.io/library/busybox:1.36', from: `sha256:${H('a')}`, to: `sha256:${H('b')}` }] });
  });
  it('debs by package and version; wheels by project, once for all their platform files', () => {
    const d = diffArtifacts(
      [deb('socat', '1.7.4.4-2'), wheel('MarkupSafe-2.1.2-cp311-cp311-manylinux_2_36_x86_64.whl', 'MarkupSafe', '2.1.2')],
      [deb('socat', '1.7.4.4-3'), deb('ipset', '7.17-1'), wheel('MarkupSafe-2.1.2-cp311-cp311-manylinux_2_36_x86_64.whl', 'MarkupSafe', '2.1.2'), wheel('MarkupSafe-2.1.2-cp311-cp311-manylinux_2_36_aarch64.whl', 'MarkupSafe', '2.1.2')],
    );
    expect(d).toEqual({ added: [{ kind: 'deb', name: 'ipset', version: '7.17-1' }], removed: [], changed: [{ kind: 'deb', name: 'socat', from: '1.7.4.4-2', to: '1.7.4.4-3' }] });
  });
  it('a package held for two architectures is named with its arch', () => {
    const d = diffArtifacts([deb('socat', '1', 'amd64'), deb('socat', '1', 'arm64')], [deb('socat', '1', 'amd64')]);
    expect(d.removed).toEqual([{ kind: 'deb', name: 'socat:arm64', version: '1' }]);
  });
  it('files by name with their sha256; removals listed', () => {
    const f = (name: string, c: string): LockEntry => ({ kind: 'file', name, source: 'u', size: 1, sha256: H(c) });
    expect(diffArtifacts([f('kubeadm', 'a'), f('gone', 'b')], [f('kubeadm', 'c')])).toEqual({
      added: [],
      removed: [{ kind: 'file', name: 'gone', version: H('b') }],
      changed: [{ kind: 'file', name: 'kubeadm', from: H('a'), to: H('c') }],
    });
  });
});
