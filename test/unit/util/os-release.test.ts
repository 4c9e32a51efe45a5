import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOsRelease } from '../../../src/util/os-release.js';

const sample = (f: string) => readFileSync(join(import.meta.dirname, '..', '..', 'apt', 'samples', 'host-sources', f), 'utf8');
const debian12 = () => parseOsRelease(sample('debian-12.os-release'));

describe('parseOsRelease', () => {
  it('reads quoted and bare values of a Debian 12 and an Ubuntu 22.04 os-release', () => {
    expect(debian12()).toMatchObject({ ID: 'debian', VERSION_CODENAME: 'bookworm', PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)' });
    expect(parseOsRelease(sample('ubuntu-22.04.os-release'))).toMatchObject({ ID: 'ubuntu', ID_LIKE: 'debian', PRETTY_NAME: 'Ubuntu 22.04.4 LTS' });
  });

  it('undoes shell escapes inside double quotes and skips comments', () => {
    expect(parseOsRelease('# c\nNAME="a \\"b\\" \\$c"\nX=\'y z\'\n')).toEqual({ NAME: 'a "b" $c', X: 'y z' });
  });
});

