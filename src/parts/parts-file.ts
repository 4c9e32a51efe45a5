import { SHA256_HEX } from '../store/hashing.js';

/**
 * The `BUNDLE.parts` file: one line per part, in order, `<sha256>  <file name>`, so `sha256sum -c BUNDLE.parts`
 * checks them. The names are plain file names beside the .parts file. Pure.
 */
export interface PartRef {
  name: string;
  sha256: string;
}

export const PARTS_SUFFIX = '.parts';

export function isPartsFile(path: string): boolean {
  return path.endsWith(PARTS_SUFFIX);
}

/** `B.part001`, `B.part002`, …: three digits, more when a bundle has over 999 parts (names still sort in order). */
export function partName(bundleName: string, index: number, count: number): string {
  return `${bundleName}.part${String(index + 1).padStart(Math.max(3, String(count).length), '0')}`;
}

export function renderParts(parts: PartRef[]): string {
  return parts.map((p) => `${p.sha256}  ${p.name}\n`).join('');
}

export type ParsedParts = { ok: true; parts: PartRef[] } | { ok: false; line: number; reason: string };

/**
 * Names come from a file not yet verified: only plain names of this folder are accepted, so a crafted .parts file
 * cannot make the reader open /etc/shadow or ../other.
 */
export function parseParts(text: string): ParsedParts {
  const parts: PartRef[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' && i === lines.length - 1) break;
    const m = /^([0-9a-f]{64}) [ *]([^/\\]+)$/.exec(line);
    if (!m || !SHA256_HEX.test(m[1]!)) return { ok: false, line: i + 1, reason: 'not "<sha256>  <part file name>"' };
    const name = m[2]!;
    if (name === '.' || name === '..' || name.includes('\0')) return { ok: false, line: i + 1, reason: `${JSON.stringify(name)} is not a file name` };
    if (parts.some((p) => p.name === name)) return { ok: false, line: i + 1, reason: `${name} is listed twice` };
    parts.push({ name, sha256: m[1]! });
  }
  if (!parts.length) return { ok: false, line: 1, reason: 'lists no parts' };
  return { ok: true, parts };
}
