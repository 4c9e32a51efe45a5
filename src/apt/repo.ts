/**
 * The apt repository a bundle carries for one OS: `dists/<codename>/main/binary-<arch>/Packages{,.gz}`, a
 * `Release` with their hashes, `InRelease` and `Release.gpg` signed with the bundle's key, and `pool/` entries
 * that are content-store blobs. Rendering is pure; the same inputs give the same bytes (fixed Date, sorted
 * stanzas, gzip without a timestamp, deterministic signatures).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { BundleEntry } from '../bundle/entry.js';
import { signCleartext, signDetachedArmored, type SigningKey } from './pgp.js';

export const APT_REPO_ROOT = 'repos/apt';
export const BUNDLE_KEY_FILE = 'ks-bundle.gpg';
export const NODE_KEYRING_PATH = '/etc/apt/keyrings/ks-bundle.gpg';
export const COMPONENT = 'main';

/** `pool/main/<x>/<source>/<file>`, with Debian's `lib` prefix rule. */
export function poolPath(source: string, upstreamFilename: string): string {
  const prefix = source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source.slice(0, 1);
  const file = upstreamFilename.slice(upstreamFilename.lastIndexOf('/') + 1);
  return `pool/${COMPONENT}/${prefix}/${source}/${file}`;
}

/** The upstream stanza with its Filename pointing into our pool. Everything else is kept byte for byte. */
export function rewriteFilename(stanza: string, filename: string): string {
  const out = stanza.replace(/^Filename:.*$/m, `Filename: ${filename}`);
  return out.endsWith('\n') ? out : out + '\n';
}

export interface RepoPackage {
  name: string;
  version: string;
  arch: string;
  /** Stanza text already pointing at `pool`. */
  stanza: string;
  pool: string;
  sha256: string;
  size: number;
  /** The deb in the content store. */
  file: string;
}

export interface RepoInput {
  os: string;
  codename: string;
  /** Fixed date (from the upstream Releases or the lock), never now(). */
  date: Date;
  /** Per architecture, the packages of its closure. */
  byArch: Map<string, RepoPackage[]>;
  key: SigningKey;
}

function sortPackages(list: RepoPackage[]): RepoPackage[] {
  return [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
}

export function renderPackages(list: RepoPackage[]): string {
  return sortPackages(list)
    .map((p) => p.stanza)
    .join('\n');
}

/** Debian's own Date format: `Sat, 11 Jul 2026 10:16:37 UTC`. */
export function releaseDate(d: Date): string {
  return d.toUTCString().replace(/GMT$/, 'UTC');
}

export function renderRelease(codename: string, date: Date, arches: string[], files: Array<{ path: string; data: Buffer }>): string {
  const lines = [
    'Origin: ks-bundle',
    'Label: ks-bundle',
    `Suite: ${codename}`,
    `Codename: ${codename}`,
    `Date: ${releaseDate(date)}`,
    `Architectures: ${[...arches].sort().join(' ')}`,
    `Components: ${COMPONENT}`,
    'Description: packages for an offline install, from ks-bundle',
    'SHA256:',
  ];
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    lines.push(` ${createHash('sha256').update(f.data).digest('hex')} ${String(f.data.length).padStart(16)} ${f.path}`);
  }
  return lines.join('\n') + '\n';
}

function dataEntry(path: string, data: Buffer): BundleEntry {
  return { path, data, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Every bundle entry of one OS's repo: generated index files and pool entries pointing at store blobs. */
export async function buildRepo(input: RepoInput): Promise<BundleEntry[]> {
  const root = `${APT_REPO_ROOT}/${input.os}`;
  const dist = `dists/${input.codename}`;
  const entries: BundleEntry[] = [];
  const indexFiles: Array<{ path: string; data: Buffer }> = [];
  const pool = new Map<string, RepoPackage>();
  for (const [arch, list] of [...input.byArch].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const packages = Buffer.from(renderPackages(list), 'utf8');
    const gz = gzipSync(packages, { level: 9 });
    indexFiles.push({ path: `${COMPONENT}/binary-${arch}/Packages`, data: packages }, { path: `${COMPONENT}/binary-${arch}/Packages.gz`, data: gz });
    for (const p of list) {
      const had = pool.get(p.pool);
      if (had && had.sha256 !== p.sha256) throw new Error(`two different files for ${root}/${p.pool}: ${had.sha256} and ${p.sha256}`);
      pool.set(p.pool, p);
    }
  }
  for (const f of indexFiles) entries.push(dataEntry(`${root}/${dist}/${f.path}`, f.data));
  const release = renderRelease(input.codename, input.date, [...input.byArch.keys()], indexFiles);
  const releaseBuf = Buffer.from(release, 'utf8');
  entries.push(dataEntry(`${root}/${dist}/Release`, releaseBuf));
  entries.push(dataEntry(`${root}/${dist}/InRelease`, Buffer.from(await signCleartext(release, input.key, input.date), 'utf8')));
  entries.push(dataEntry(`${root}/${dist}/Release.gpg`, Buffer.from(await signDetachedArmored(releaseBuf, input.key, input.date), 'utf8')));
  for (const p of [...pool.values()].sort((a, b) => (a.pool < b.pool ? -1 : 1))) {
    entries.push({ path: `${root}/${p.pool}`, file: p.file, size: p.size, sha256: p.sha256 });
  }
  return entries;
}

/** The public key every node's apt uses with `signed-by=`. */
export function keyEntry(key: SigningKey): BundleEntry {
  return dataEntry(`${APT_REPO_ROOT}/${BUNDLE_KEY_FILE}`, Buffer.from(key.publicBinary));
}
