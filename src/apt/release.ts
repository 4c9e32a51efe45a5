/**
 * Release / InRelease files: the signed table of contents of a suite. Pure parsing; signature checks live in
 * pgp.ts. Only what the verified text says is trusted, so callers parse the text openpgp hands back.
 */
import { parseDeb822 } from './deb822.js';

export interface ReleaseFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Release {
  fields: Record<string, string>;
  /** SHA256 section, by path relative to dists/<suite>/. */
  files: Map<string, ReleaseFile>;
  date?: Date;
  architectures: string[];
  components: string[];
  acquireByHash: boolean;
}

export class ReleaseError extends Error {}

export function parseRelease(text: string): Release {
  const stanzas = parseDeb822(text);
  if (stanzas.length === 0) throw new ReleaseError('empty Release file');
  const fields = stanzas[0]!;
  const files = new Map<string, ReleaseFile>();
  const table = fields['SHA256'];
  if (!table) throw new ReleaseError('Release has no SHA256 section');
  for (const line of table.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) continue;
    const [sha256, size, path] = parts as [string, string, string];
    if (!/^[0-9a-f]{64}$/.test(sha256) || !/^\d+$/.test(size)) throw new ReleaseError(`bad SHA256 line in Release: ${line.trim()}`);
    files.set(path, { path, size: Number(size), sha256 });
  }
  const date = fields['Date'] ? new Date(fields['Date']) : undefined;
  return {
    fields,
    files,
    date: date && !Number.isNaN(date.getTime()) ? date : undefined,
    architectures: (fields['Architectures'] ?? '').split(/\s+/).filter(Boolean),
    components: (fields['Components'] ?? '').split(/\s+/).filter(Boolean),
    acquireByHash: (fields['Acquire-By-Hash'] ?? '').toLowerCase() === 'yes',
  };
}

/**
 * The body of a cleartext-signed InRelease without checking anything: only for sources marked `trusted: true`.
 * Undoes dash-escaping (RFC 4880 7.1).
 */
export function unsignedCleartextBody(text: string): string {
  const lines = text.split(/\r?\n/);
  const begin = lines.indexOf('-----BEGIN PGP SIGNED MESSAGE-----');
  if (begin < 0) return text;
  let i = begin + 1;
  while (i < lines.length && lines[i] !== '') i++; // armor headers (Hash: ...)
  const body: string[] = [];
  for (i++; i < lines.length && lines[i] !== '-----BEGIN PGP SIGNATURE-----'; i++) {
    const l = lines[i]!;
    body.push(l.startsWith('- ') ? l.slice(2) : l);
  }
  return body.join('\n') + '\n';
}

/** The index files for `<component>/binary-<arch>/Packages`, best first: xz, then gz, then plain. */
export function packagesCandidates(release: Release, component: string, arch: string): { candidates: Array<{ file: ReleaseFile; codec: 'xz' | 'gz' | 'none' }>; plain?: ReleaseFile } {
  const base = `${component}/binary-${arch}/Packages`;
  const plain = release.files.get(base);
  const candidates: Array<{ file: ReleaseFile; codec: 'xz' | 'gz' | 'none' }> = [];
  const xz = release.files.get(base + '.xz');
  const gz = release.files.get(base + '.gz');
  if (xz) candidates.push({ file: xz, codec: 'xz' });
  if (gz) candidates.push({ file: gz, codec: 'gz' });
  if (plain) candidates.push({ file: plain, codec: 'none' });
  return { candidates, plain };
}
