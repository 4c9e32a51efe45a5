/**
 * The Debian archives this machine's own apt uses, as the default for the Debian upstreams of repos/debian.yaml
 * (`${KS_BUNDLE_DEBIAN_MIRROR:-build-machine:debian}`): a Debian build machine already knows a mirror that works
 * from where it stands. The parsers are pure and tested on real files; readBuildMachineArchives does the reading.
 * A wrong pick cannot slip in unnoticed: every Release is still checked against the Debian archive keyring.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildMachineArchive, BuildMachineArchives } from '../manifest/env.js';
import { parseDeb822 } from './deb822.js';
import { parseOsRelease } from '../util/os-release.js';

/** One apt source entry, from either format. */
export interface HostSourceEntry {
  /** The file it came from, for messages. */
  file: string;
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  /** A keyring path, or an embedded key (deb822 only); absent when not given. */
  signedBy?: string;
  enabled: boolean;
}

/** The one-line format of sources.list(5): `deb [opt=value ...] URI SUITE [COMPONENT...]`. */
export function parseSourcesList(text: string, file: string): HostSourceEntry[] {
  const out: HostSourceEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s*)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const options = new Map((m[2] ?? '').trim().split(/\s+/).filter(Boolean).map((o) => [o.split('=')[0]!.toLowerCase(), o.slice(o.indexOf('=') + 1)] as const));
    out.push({
      file,
      types: [m[1]!],
      uris: [m[3]!],
      suites: [m[4]!],
      components: m[5]!.trim().split(/\s+/).filter(Boolean),
      signedBy: options.get('signed-by'),
      enabled: true,
    });
  }
  return out;
}

/** The deb822 format of sources.list(5) (`*.sources`): stanzas of Types, URIs, Suites, Components, Enabled, Signed-By. */
export function parseSourcesDeb822(text: string, file: string): HostSourceEntry[] {
  return parseDeb822(text).map((stanza) => {
    const field = (name: string) => Object.entries(stanza).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    const words = (name: string) => (field(name) ?? '').split(/\s+/).filter(Boolean);
    return {
      file,
      types: words('Types'),
      uris: words('URIs'),
      suites: words('Suites'),
      components: words('Components'),
      signedBy: field('Signed-By')?.trim() || undefined,
      enabled: !/^(no|false|0)$/i.test((field('Enabled') ?? 'yes').trim()),
    };
  });
}

/** An apt mirror list (`mirror+file:` sources): one URI per line, optional tab-separated metadata, `#` comments. */
export function firstMirrorOf(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const uri = raw.replace(/#.*$/, '').trim().split(/\s+/)[0];
    if (uri && /^https?:\/\//.test(uri)) return uri;
  }
  return undefined;
}

const MIRROR_FILE = 'mirror+file:';

/** `mirror+file:///etc/apt/mirrors/debian.list` → `/etc/apt/mirrors/debian.list`; undefined for other URIs. */
function mirrorFileOf(uri: string): string | undefined {
  return uri.startsWith(MIRROR_FILE) ? uri.slice(MIRROR_FILE.length).replace(/^\/\/(?=\/)/, '') : undefined;
}

/**
 * Which URL serves each Debian archive for this machine's release: the main archive is the first enabled `deb`
 * entry with the release's suite (or its -updates/-backports) and component main; the security archive the first with
 * `<codename>-security` (or the old `<codename>/updates`). An entry signed by a keyring that is not Debian's is a
 * third-party repository that reuses the codename, and is skipped. `mirror+file:` URIs are looked up in `mirrorLists`.
 */
export function debianArchivesOf(
  entries: readonly HostSourceEntry[],
  codename: string,
  mirrorLists: ReadonlyMap<string, string | undefined> = new Map(),
): Partial<Record<BuildMachineArchive, string>> {
  const isDebianKeyring = (s: string | undefined) => s === undefined || s.startsWith('-----BEGIN') || /debian-archive/.test(s);
  const urlOf = (uri: string) => {
    const listFile = mirrorFileOf(uri);
    const url = listFile === undefined ? uri : mirrorLists.get(listFile);
    return url && /^https?:\/\/\S+$/.test(url) ? url.replace(/\/+$/, '') : undefined;
  };
  const find = (suiteMatches: (suite: string) => boolean) => {
    for (const e of entries) {
      if (!e.enabled || !e.types.includes('deb') || !e.components.includes('main') || !isDebianKeyring(e.signedBy)) continue;
      if (!e.suites.some(suiteMatches)) continue;
      for (const uri of e.uris) {
        const url = urlOf(uri);
        if (url) return url;
      }
    }
    return undefined;
  };
  const out: Partial<Record<BuildMachineArchive, string>> = {};
  const main = find((s) => s === codename || s === `${codename}-updates` || s === `${codename}-backports`);
  const security = find((s) => s === `${codename}-security` || s === `${codename}/updates`);
  if (main) out.debian = main;
  if (security) out['debian-security'] = security;
  return out;
}

/** The `mirror+file:` paths the entries name, to be read before debianArchivesOf. */
export function mirrorFilesOf(entries: readonly HostSourceEntry[]): string[] {
  return [...new Set(entries.flatMap((e) => e.uris.flatMap((u) => mirrorFileOf(u) ?? [])))];
}

/** What a machine with this os-release and these sources offers as Debian archives, and why not where it does not. */
export function buildMachineArchivesOf(
  osRelease: Record<string, string> | undefined,
  entries: readonly HostSourceEntry[],
  mirrorLists: ReadonlyMap<string, string | undefined> = new Map(),
  where = { osRelease: '/etc/os-release', sources: '/etc/apt/sources.list and /etc/apt/sources.list.d/' },
): BuildMachineArchives {
  const why = (reason: string): BuildMachineArchives => ({ urls: {}, why: { debian: reason, 'debian-security': reason } });
  if (!osRelease) return why(`this machine has no ${where.osRelease} to tell its distribution by`);
  const pretty = osRelease.PRETTY_NAME ?? osRelease.NAME ?? osRelease.ID ?? 'an unnamed system';
  if (osRelease.ID !== 'debian') return why(`this machine runs ${pretty} (${where.osRelease}), not Debian`);
  const codename = osRelease.VERSION_CODENAME;
  if (!codename) return why(`${where.osRelease} gives no VERSION_CODENAME to find this machine's Debian archive by`);
  const urls = debianArchivesOf(entries, codename, mirrorLists);
  const out: BuildMachineArchives = { urls, why: {} };
  if (!urls.debian) out.why.debian = `${where.sources} name no enabled Debian archive for ${codename} (component main, over http or https)`;
  if (!urls['debian-security']) out.why['debian-security'] = `${where.sources} name no enabled Debian security archive for ${codename}-security (component main, over http or https)`;
  return out;
}

/**
 * Read this machine's os-release and apt sources (as apt does: sources.list, then sources.list.d/*.list and *.sources
 * in name order) under `root`, and the mirror lists they name. Missing files are simply absent.
 */
export async function readBuildMachineArchives(root = '/'): Promise<BuildMachineArchives> {
  const read = (path: string) => readFile(join(root, path), 'utf8').catch(() => undefined);
  const osText = (await read('etc/os-release')) ?? (await read('usr/lib/os-release'));
  const entries: HostSourceEntry[] = [];
  const list = await read('etc/apt/sources.list');
  if (list !== undefined) entries.push(...parseSourcesList(list, '/etc/apt/sources.list'));
  const parts = (await readdir(join(root, 'etc/apt/sources.list.d')).catch(() => [] as string[])).sort();
  for (const name of parts) {
    const file = `/etc/apt/sources.list.d/${name}`;
    if (!/\.(list|sources)$/.test(name)) continue;
    const text = await read(file);
    if (text === undefined) continue;
    try {
      entries.push(...(name.endsWith('.list') ? parseSourcesList(text, file) : parseSourcesDeb822(text, file)));
    } catch {
      // A file apt itself would reject names no archive to default to; the other files still count.
    }
  }
  const mirrorLists = new Map<string, string | undefined>();
  for (const path of mirrorFilesOf(entries)) {
    const text = await read(path);
    mirrorLists.set(path, text === undefined ? undefined : firstMirrorOf(text));
  }
  return buildMachineArchivesOf(osText === undefined ? undefined : parseOsRelease(osText), entries, mirrorLists);
}
