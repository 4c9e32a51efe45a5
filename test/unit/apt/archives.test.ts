import { describe, expect, it } from 'vitest';
import { archivesOf, distsUrlOf } from '../../../src/apt/archives.js';
import { debUrls } from '../../../src/apt/collect.js';
import type { PlannedDeb } from '../../../src/apt/plan.js';
import type { AptSource, AptSpec } from '../../../src/manifest/types.js';

const debian: AptSource = { name: 'debian', url: 'http://deb.example/debian', suites: ['bookworm'], components: ['main'] };
const alternates = [
  { prefix: 'http://deb.example/', to: ['https://mirror-a.example/', 'https://mirror-b.example/pub/'] },
  { prefix: 'http://other.example/', to: ['https://never.example/'] },
];

describe('apt archives and their alternates', () => {
  it('tries the source URL, then each alternate in order; nothing else', () => {
    expect(archivesOf(debian, alternates).map((a) => a.url)).toEqual(['http://deb.example/debian', 'https://mirror-a.example/debian', 'https://mirror-b.example/pub/debian']);
    expect(archivesOf(debian, alternates).every((a) => a.name === 'debian' && a.suites[0] === 'bookworm')).toBe(true);
    expect(distsUrlOf({ ...debian, url: 'https://mirror-a.example/debian/' }, 'bookworm')).toBe('https://mirror-a.example/debian/dists/bookworm/');
  });

  it('a deb is fetched where it was planned first, then from every other archive of its source', () => {
    const spec: AptSpec = { sources: [debian], packages: ['socat'], recommends: false };
    const deb = {
      name: 'socat',
      url: 'https://mirror-a.example/debian/pool/main/s/socat/socat_1.7.4.4-2_amd64.deb',
      upstream: 'pool/main/s/socat/socat_1.7.4.4-2_amd64.deb',
      index: 'debian/bookworm/main/binary-amd64/Packages',
    } as PlannedDeb;
    expect(debUrls(deb, spec, alternates)).toEqual([
      'https://mirror-a.example/debian/pool/main/s/socat/socat_1.7.4.4-2_amd64.deb',
      'http://deb.example/debian/pool/main/s/socat/socat_1.7.4.4-2_amd64.deb',
      'https://mirror-b.example/pub/debian/pool/main/s/socat/socat_1.7.4.4-2_amd64.deb',
    ]);
    // A lock written before the upstream path was recorded: only where it was fetched.
    expect(debUrls({ ...deb, upstream: undefined }, spec, alternates)).toEqual([deb.url]);
  });
});
