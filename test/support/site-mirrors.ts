import { afterAll, beforeAll } from 'vitest';

/** The archives repos/*.yaml name are the site's choice; any URLs do for tests that fetch nothing. */
export const SITE_MIRRORS = {
  KS_BUNDLE_DEBIAN_MIRROR: 'http://debian.mirror.test/debian',
  KS_BUNDLE_DEBIAN_SECURITY_MIRROR: 'http://debian.mirror.test/debian-security',
  KS_BUNDLE_UBUNTU_MIRROR: 'http://ubuntu.mirror.test/ubuntu',
  KS_BUNDLE_UBUNTU_SECURITY_MIRROR: 'http://ubuntu.mirror.test/ubuntu',
  KS_BUNDLE_UBUNTU_PORTS_MIRROR: 'http://ubuntu.mirror.test/ubuntu-ports',
  KS_BUNDLE_PYPI_INDEX: 'https://pypi.mirror.test/simple',
};

/** Set the site mirror variables for the tests of one file. */
export function useSiteMirrors(): void {
  beforeAll(() => void Object.assign(process.env, SITE_MIRRORS));
  afterAll(() => {
    for (const k of Object.keys(SITE_MIRRORS)) delete process.env[k];
  });
}
