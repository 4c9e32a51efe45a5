import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Debian mirror this machine's apt uses, read at run time so no mirror host is ever written into the repo.
 * Reads deb822 `*.sources` and one-line `*.list` files (others, e.g. `*.disabled`, are not apt's either).
 */
export function debianMirrorUrl(suite = 'bookworm', etc = '/etc/apt'): string {
  const files: string[] = [];
  if (existsSync(join(etc, 'sources.list'))) files.push(join(etc, 'sources.list'));
  const dir = join(etc, 'sources.list.d');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.sources') || f.endsWith('.list')) files.push(join(dir, f));
    }
  }
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const found = f.endsWith('.sources') ? fromDeb822(text, suite) : fromOneLine(text, suite);
    if (found) return found.replace(/\/+$/, '');
  }
  throw new Error(`no apt source for suite ${suite} with component main in ${etc}`);
}

function fromDeb822(text: string, suite: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
    if (fields.get('enabled') === 'no') continue;
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    if (!(fields.get('suites') ?? '').split(/\s+/).includes(suite)) continue;
    if (!(fields.get('components') ?? '').split(/\s+/).includes('main')) continue;
    const uri = (fields.get('uris') ?? '').split(/\s+/)[0];
    if (uri) return uri;
  }
  return undefined;
}

function fromOneLine(text: string, suite: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    // deb [opts] URI SUITE COMPONENTS...
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line);
    if (m && m[2] === suite && m[3]!.split(/\s+/).includes('main')) return m[1];
  }
  return undefined;
}
