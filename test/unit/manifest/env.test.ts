import { describe, expect, it } from 'vitest';
import { URL_OR_ENV, badDefaults, expandEnv, type BuildMachineArchives } from '../../../src/manifest/env.js';

const debianMachine: BuildMachineArchives = { urls: { debian: 'http://deb.debian.org/debian' }, why: { 'debian-security': 'no security line' } };

describe('expandEnv', () => {
  it('fills ${NAME} from the environment, and names it when unset or empty', () => {
    expect(expandEnv('${A}/x', { A: 'http://a' })).toEqual({ value: 'http://a/x', missing: [] });
    expect(expandEnv('${A}/x', { A: '' }).missing).toEqual([{ name: 'A' }]);
  });

  it('uses a URL default only when the variable is unset or empty', () => {
    const v = '${KS_BUNDLE_PYPI_INDEX:-https://pypi.org/simple}/';
    expect(expandEnv(v, {})).toEqual({ value: 'https://pypi.org/simple/', missing: [] });
    expect(expandEnv(v, { KS_BUNDLE_PYPI_INDEX: '' }).value).toBe('https://pypi.org/simple/');
    expect(expandEnv(v, { KS_BUNDLE_PYPI_INDEX: 'http://devpi.internal/root/pypi/+simple' }).value).toBe('http://devpi.internal/root/pypi/+simple/');
  });

  it("uses the build machine's archive for a build-machine: default, and says why when it has none", () => {
    expect(expandEnv('${D:-build-machine:debian}/', {}, debianMachine)).toEqual({ value: 'http://deb.debian.org/debian/', missing: [] });
    expect(expandEnv('${S:-build-machine:debian-security}/', {}, debianMachine).missing).toEqual([{ name: 'S', why: 'no security line' }]);
    expect(expandEnv('${S:-build-machine:debian-security}/', { S: 'http://m/debian-security' }, debianMachine).value).toBe('http://m/debian-security/');
    // Not read at all: the default does not apply, and that is said.
    expect(expandEnv('${D:-build-machine:debian}/', {}).missing).toEqual([{ name: 'D', why: "this machine's apt sources were not read" }]);
  });
});

describe('badDefaults', () => {
  it('accepts URL and known build-machine defaults, and plain variables', () => {
    expect(badDefaults('${A:-http://archive.ubuntu.com/ubuntu}/ ${B:-build-machine:debian-security} ${C}')).toEqual([]);
  });

  it('names a default that is neither, and an empty one', () => {
    expect(badDefaults('${A:-archive.ubuntu.com/ubuntu}/')).toEqual(['the default "archive.ubuntu.com/ubuntu" of ${A} is not an http(s) URL']);
    expect(badDefaults('${A:-build-machine:ubuntu}/')).toEqual(['"build-machine:ubuntu" is not an archive of the build machine (known: build-machine:debian, build-machine:debian-security)']);
    expect(badDefaults('${A:-}/')).toEqual(['${A:-} has an empty default: drop ":-", or give a URL']);
  });
});

describe('URL_OR_ENV', () => {
  it('takes a URL, a variable, or a variable with a default, followed by a path', () => {
    for (const ok of ['https://pypi.org/simple/', '${A}/', '${A:-http://x/y}/', '${A:-build-machine:debian}/']) expect(URL_OR_ENV.test(ok), ok).toBe(true);
    for (const bad of ['pypi', 'ftp://x/', '${a}/', '${A:-http://x y}/']) expect(URL_OR_ENV.test(bad), bad).toBe(false);
  });
});
