import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { debianArchivesOf, firstMirrorOf, mirrorFilesOf, parseSourcesDeb822, parseSourcesList, type HostSourceEntry } from '../../src/apt/host-sources.js';

/**
 * The Debian mirror this machine's apt uses for `suite` (`bookworm`, or `bookworm-security` for the security
 * archive), read at run time so no mirror host is ever written into the repo. The reading is the build's own
 * (src/apt/host-sources.ts, checked against apt-get indextargets); this only reads the files synchronously.
 */
export function debianMirrorUrl(suite = 'bookworm', etc = '/etc/apt'): string {
  const files: string[] = [];
  if (existsSync(join(etc, 'sources.list'))) files.push(join(etc, 'sources.list'));
  const dir = join(etc, 'sources.list.d');
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(dir, f));
  const entries: HostSourceEntry[] = files.flatMap((f) => (f.endsWith('.sources') ? parseSourcesDeb822 : parseSourcesList)(readFileSync(f, 'utf8'), f));
  const lists = new Map(mirrorFilesOf(entries).map((f) => [f, existsSync(f) ? firstMirrorOf(readFileSync(f, 'utf8')) : undefined]));
  const security = suite.endsWith('-security');
  const url = debianArchivesOf(entries, security ? suite.slice(0, -'-security'.length) : suite, lists)[security ? 'debian-security' : 'debian'];
  if (!url) throw new Error(`no apt source for suite ${suite} with component main in ${etc}`);
  return url;
}
