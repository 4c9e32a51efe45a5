import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, satisfies } from '../../src/apt/version.js';
import { requireTools } from '../support/tools.js';

const cases = readFileSync(join(import.meta.dirname, 'samples/dpkg-version-cases.txt'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split(' ') as [string, string, string]);

describe('dpkg version comparison', () => {
  it.each(cases)('%s vs %s => %s (dpkg test suite)', (a, b, want) => {
    expect(Math.sign(compareVersions(a, b))).toBe(Number(want));
    expect(Math.sign(compareVersions(b, a)) || 0).toBe(-Number(want) || 0);
  });

  it('parses epoch, upstream and revision like dpkg (t-version.c)', () => {
    expect(parseVersion('0:0-0-0')).toEqual({ epoch: 0, upstream: '0-0', revision: '0' });
    expect(parseVersion('0:0:0-0')).toEqual({ epoch: 0, upstream: '0:0', revision: '0' });
    expect(parseVersion('5:1')).toEqual({ epoch: 5, upstream: '1', revision: '' });
    expect(compareVersions('0:0-00', '00-0')).toBe(0);
    expect(compareVersions('  \t0:0-1', '0:0-1  ')).toBe(0);
  });

  it('relations', () => {
    expect(satisfies('1:1.4.7-1+b2', '>=', '1.4')).toBe(true);
    expect(satisfies('2.36-9+deb12u4', '<<', '2.37')).toBe(true);
    expect(satisfies('2.37~rc1', '>>', '2.37')).toBe(false);
    expect(satisfies('1-1', '=', '1-1')).toBe(true);
  });

  it('agrees with dpkg --compare-versions on real version pairs of the bookworm index', () => {
    requireTools('dpkg');
    const text = readFileSync(join(import.meta.dirname, 'samples/bookworm-main-amd64-Packages.sample'), 'utf8');
    const versions = [...text.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]!);
    // Plus the suite's cases that are valid versions (dpkg's CLI rejects `0foo-` and friends).
    versions.push(...cases.flatMap(([a, b]) => [a, b]).filter((v) => /^[0-9][^-]*(-[0-9a-z.+~]+)?$/i.test(v)));
    for (let i = 0; i + 1 < versions.length; i++) {
      const [a, b] = [versions[i]!, versions[i + 1]!];
      const lt = dpkgSays(a, 'lt', b);
      const eq = dpkgSays(a, 'eq', b);
      expect(Math.sign(compareVersions(a, b)), `${a} vs ${b}`).toBe(lt ? -1 : eq ? 0 : 1);
    }
  });
});

function dpkgSays(a: string, op: string, b: string): boolean {
  try {
    execFileSync('dpkg', ['--compare-versions', a, op, b], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
