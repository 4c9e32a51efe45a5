import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildMachineArchivesOf,
  debianArchivesOf,
  firstMirrorOf,
  mirrorFilesOf,
  parseSourcesDeb822,
  parseSourcesList,
  type HostSourceEntry,
} from '../../../src/apt/host-sources.js';
import { parseOsRelease } from '../../../src/util/os-release.js';

const dir = join(import.meta.dirname, '..', '..', 'apt', 'samples', 'host-sources');
const sample = (f: string) => readFileSync(join(dir, f), 'utf8');
const list = (f: string) => parseSourcesList(sample(f), f);
const deb822 = (f: string) => parseSourcesDeb822(sample(f), f);
const debian12 = () => parseOsRelease(sample('debian-12.os-release'));

describe('parseSourcesList (one-line format)', () => {
  it("reads the installer's sources.list: deb and deb-src lines, comments and the commented cdrom line skipped", () => {
    const e = list('debian-12-installer.list');
    expect(e.map((x) => `${x.types[0]} ${x.uris[0]} ${x.suites[0]} ${x.components.join(',')}`)).toEqual([
      'deb http://deb.debian.org/debian/ bookworm main,non-free-firmware',
      'deb-src http://deb.debian.org/debian/ bookworm main,non-free-firmware',
      'deb http://security.debian.org/debian-security bookworm-security main,non-free-firmware',
      'deb-src http://security.debian.org/debian-security bookworm-security main,non-free-firmware',
      'deb http://deb.debian.org/debian/ bookworm-updates main,non-free-firmware',
      'deb-src http://deb.debian.org/debian/ bookworm-updates main,non-free-firmware',
    ]);
  });

  it('reads [options], signed-by among them', () => {
    const e = list('third-party-first.list');
    expect(e[0]).toMatchObject({ uris: ['https://packages.sury.org/php/'], suites: ['bookworm'], signedBy: '/usr/share/keyrings/deb.sury.org-php.gpg' });
    expect(e[1]).toMatchObject({ components: ['stable'], signedBy: '/usr/share/keyrings/docker.gpg' });
  });
});

describe('parseSourcesDeb822 (.sources)', () => {
  it("reads the Debian 12 container image's debian.sources, comment lines inside stanzas included", () => {
    expect(deb822('debian-12-container.sources')).toEqual([
      {
        file: 'debian-12-container.sources',
        types: ['deb'],
        uris: ['http://deb.debian.org/debian'],
        suites: ['bookworm', 'bookworm-updates'],
        components: ['main'],
        signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
        enabled: true,
      },
      {
        file: 'debian-12-container.sources',
        types: ['deb'],
        uris: ['http://deb.debian.org/debian-security'],
        suites: ['bookworm-security'],
        components: ['main'],
        signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
        enabled: true,
      },
    ]);
  });

  it('reads several Types, and Enabled: no', () => {
    expect(deb822('debian-12-cloud.sources')[0]!.types).toEqual(['deb', 'deb-src']);
    expect(deb822('disabled.sources').map((e) => e.enabled)).toEqual([false, true]);
  });
});

describe('debianArchivesOf', () => {
  it('finds the main and security archives of the container image, without the trailing slash', () => {
    expect(debianArchivesOf(deb822('debian-12-container.sources'), 'bookworm')).toEqual({ debian: 'http://deb.debian.org/debian', 'debian-security': 'http://deb.debian.org/debian-security' });
  });

  it("finds the installer's, where security has its own host", () => {
    expect(debianArchivesOf(list('debian-12-installer.list'), 'bookworm')).toEqual({ debian: 'http://deb.debian.org/debian', 'debian-security': 'http://security.debian.org/debian-security' });
  });

  it('finds the old <codename>/updates security suite of Debian 10', () => {
    expect(debianArchivesOf(list('debian-10.list'), 'buster')).toEqual({ debian: 'http://ftp.de.debian.org/debian', 'debian-security': 'http://security.debian.org/debian-security' });
  });

  it("follows the cloud images' mirror+file: lists", () => {
    const entries = deb822('debian-12-cloud.sources');
    expect(mirrorFilesOf(entries)).toEqual(['/etc/apt/mirrors/debian.list', '/etc/apt/mirrors/debian-security.list']);
    const lists = new Map([
      ['/etc/apt/mirrors/debian.list', firstMirrorOf(sample('debian-12-cloud.mirror-debian.list'))],
      ['/etc/apt/mirrors/debian-security.list', firstMirrorOf(sample('debian-12-cloud.mirror-debian-security.list'))],
    ]);
    expect(debianArchivesOf(entries, 'bookworm', lists)).toEqual({ debian: 'https://deb.debian.org/debian', 'debian-security': 'https://deb.debian.org/debian-security' });
    // A list that could not be read gives no archive rather than a made-up URL.
    expect(debianArchivesOf(entries, 'bookworm')).toEqual({});
  });

  it("skips a third-party repository that reuses the codename with its own keyring, and a disabled entry", () => {
    const entries = [...list('third-party-first.list'), ...deb822('disabled.sources'), ...list('debian-12-installer.list')];
    expect(debianArchivesOf(entries, 'bookworm')).toEqual({ debian: 'http://apt-cache.example.internal:3142/debian', 'debian-security': 'http://security.debian.org/debian-security' });
  });

  it('ignores deb-src, other releases, entries without main, and URIs apt reaches by other means', () => {
    const e = (over: Partial<HostSourceEntry>): HostSourceEntry => ({ file: 'f', types: ['deb'], uris: ['http://m/debian'], suites: ['bookworm'], components: ['main'], enabled: true, ...over });
    expect(debianArchivesOf([e({ types: ['deb-src'] }), e({ suites: ['bullseye'] }), e({ components: ['contrib'] }), e({ uris: ['cdrom:[x]/', 'file:/srv/debian', 'tor+http://x/debian'] })], 'bookworm')).toEqual({});
  });
});

describe('buildMachineArchivesOf', () => {
  it('gives both archives of a Debian machine', () => {
    expect(buildMachineArchivesOf(debian12(), deb822('debian-12-container.sources'))).toEqual({
      urls: { debian: 'http://deb.debian.org/debian', 'debian-security': 'http://deb.debian.org/debian-security' },
      why: {},
    });
  });

  it('says why on an Ubuntu machine, naming it, even though its sources name archives', () => {
    const r = buildMachineArchivesOf(parseOsRelease(sample('ubuntu-22.04.os-release')), list('ubuntu-22.04.list'));
    expect(r.urls).toEqual({});
    expect(r.why.debian).toBe('this machine runs Ubuntu 22.04.4 LTS (/etc/os-release), not Debian');
  });

  it('says which archive is missing when only one is there (a debootstrap tree has no security line)', () => {
    const r = buildMachineArchivesOf(debian12(), parseSourcesList('deb http://deb.debian.org/debian bookworm main\n', 'sources.list'));
    expect(r.urls).toEqual({ debian: 'http://deb.debian.org/debian' });
    expect(r.why['debian-security']).toMatch(/name no enabled Debian security archive for bookworm-security/);
  });

  it('says why without an os-release, or without a codename in it', () => {
    expect(buildMachineArchivesOf(undefined, []).why.debian).toBe('this machine has no /etc/os-release to tell its distribution by');
    expect(buildMachineArchivesOf({ ID: 'debian', PRETTY_NAME: 'Debian GNU/Linux trixie/sid' }, []).why.debian).toMatch(/no VERSION_CODENAME/);
  });
});
