import { describe, expect, it } from 'vitest';
import { isInside, safeSegments } from '../../../src/serving/safe-path.js';

/**
 * Paths as real clients send them after the mount point (apt, pip, containerd, curl), and the traversal spellings
 * seen against the mirror; every refused one must stay refused however it is encoded.
 */
describe('safeSegments', () => {
  it.each([
    ['debian-12/dists/bookworm/InRelease', ['debian-12', 'dists', 'bookworm', 'InRelease']],
    ['debian-12/pool/main/c/curl/curl_7.88.1-10%2Bdeb12u5_amd64.deb', ['debian-12', 'pool', 'main', 'c', 'curl', 'curl_7.88.1-10+deb12u5_amd64.deb']],
    ['simple/jinja2/', ['simple', 'jinja2']],
    ['files/Jinja2-3.1.2-py3-none-any.whl.metadata', ['files', 'Jinja2-3.1.2-py3-none-any.whl.metadata']],
    ['kubeadm-v1.28.6-amd64?x=1', ['kubeadm-v1.28.6-amd64']],
    ['etcd%20v3.5.10.tar.gz', ['etcd v3.5.10.tar.gz']],
    ['', []],
    ['/leading', ['leading']],
  ])('%s → %j', (raw, segments) => {
    expect(safeSegments(raw)).toEqual(segments);
  });

  it.each([
    '../etc/passwd',
    '..',
    './passwd',
    'a/../../etc/passwd',
    '%2e%2e/etc/passwd',
    '%2E%2E/%2e%2e/etc/passwd',
    '.%2e/etc/passwd',
    '..%2fetc%2fpasswd',
    '..%2Fetc',
    '..%5cetc',
    'a%5c..%5c..%5cetc',
    'a\\..\\..\\etc',
    'passwd%00.deb',
    'a//b',
    'a/%2f/b',
    '%c0%ae%c0%ae/etc/passwd',
    'bad%zzescape',
  ])('%s is refused', (raw) => {
    expect(safeSegments(raw)).toBeUndefined();
  });
});

describe('isInside', () => {
  it.each([
    ['/var/lib/ks-bundle/demo-0.1.0/repos/files', '/var/lib/ks-bundle/demo-0.1.0/repos/files/kubeadm', true],
    ['/var/lib/ks-bundle/demo-0.1.0/repos/files', '/var/lib/ks-bundle/demo-0.1.0/repos/files', true],
    ['/var/lib/ks-bundle/demo-0.1.0/repos/files', '/var/lib/ks-bundle/demo-0.1.0/repos/files-old/x', false],
    ['/var/lib/ks-bundle/demo-0.1.0/repos/files', '/var/lib/ks-bundle/demo-0.1.0/repos/apt/x', false],
    ['/var/lib/ks-bundle/demo-0.1.0/repos/files', '/etc/passwd', false],
    ['/', '/etc/passwd', true],
  ])('%s holds %s: %s', (root, path, inside) => {
    expect(isInside(root, path)).toBe(inside);
  });
});
