import { PackageURL } from 'packageurl-js';
import { describe, expect, it } from 'vitest';
import { purl } from '../../../src/sbom/purl.js';

describe('purl', () => {
  it('writes the spec examples exactly, and packageurl-js reads them back to the same parts', () => {
    const oci = purl('oci', undefined, 'debian', 'sha256:244fd47e07d10', { repository_url: 'docker.io/library/debian', tag: 'latest' });
    expect(oci).toBe('pkg:oci/debian@sha256%3A244fd47e07d10?repository_url=docker.io/library/debian&tag=latest');
    const back = PackageURL.fromString(oci);
    expect([back.type, back.name, back.version, back.qualifiers]).toEqual(['oci', 'debian', 'sha256:244fd47e07d10', { repository_url: 'docker.io/library/debian', tag: 'latest' }]);
    expect(purl('deb', 'debian', 'curl', '7.50.3-1', { arch: 'i386' })).toBe('pkg:deb/debian/curl@7.50.3-1?arch=i386');
    expect(purl('deb', 'debian', 'iproute2', '1:6.1.0-3', { arch: 'amd64' })).toBe('pkg:deb/debian/iproute2@1%3A6.1.0-3?arch=amd64');
    expect(purl('pypi', undefined, 'Django_Allauth', '12.23')).toBe('pkg:pypi/django-allauth@12.23');
    const g = purl('generic', undefined, 'kubeadm', undefined, { download_url: 'https://dl.k8s.io/v1.26.15/bin/linux/amd64/kubeadm?a=b&c' });
    expect(g).toBe('pkg:generic/kubeadm?download_url=https://dl.k8s.io/v1.26.15/bin/linux/amd64/kubeadm%3Fa%3Db%26c');
    expect(PackageURL.fromString(g).qualifiers).toEqual({ download_url: 'https://dl.k8s.io/v1.26.15/bin/linux/amd64/kubeadm?a=b&c' });
  });
});
