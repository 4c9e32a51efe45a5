/** Facts about the operating systems a bundle can target. Pure data: release codenames, default Python, glibc. */
export interface OsFacts {
  distro: 'debian' | 'ubuntu';
  codename: string;
  python: string;
  glibc: string;
}

export const KNOWN_OS: Record<string, OsFacts> = {
  'debian-11': { distro: 'debian', codename: 'bullseye', python: '3.9', glibc: '2.31' },
  'debian-12': { distro: 'debian', codename: 'bookworm', python: '3.11', glibc: '2.36' },
  'debian-13': { distro: 'debian', codename: 'trixie', python: '3.13', glibc: '2.41' },
  'ubuntu-16.04': { distro: 'ubuntu', codename: 'xenial', python: '3.5', glibc: '2.23' },
  'ubuntu-18.04': { distro: 'ubuntu', codename: 'bionic', python: '3.6', glibc: '2.27' },
  'ubuntu-20.04': { distro: 'ubuntu', codename: 'focal', python: '3.8', glibc: '2.31' },
  'ubuntu-22.04': { distro: 'ubuntu', codename: 'jammy', python: '3.10', glibc: '2.35' },
  'ubuntu-24.04': { distro: 'ubuntu', codename: 'noble', python: '3.12', glibc: '2.39' },
};

export const ARCHES = ['amd64', 'arm64'] as const;

/** Debian arch name → `uname -m` and the name Node and Python wheels use. */
export const ARCH_NAMES: Record<string, { uname: string; node: string; wheel: string }> = {
  amd64: { uname: 'x86_64', node: 'x64', wheel: 'x86_64' },
  arm64: { uname: 'aarch64', node: 'arm64', wheel: 'aarch64' },
};
