/** Pure parsers on real samples: Debian's installed METADATA, the fixture's wheels and pages, pip's own answers. */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWheelFilename, wheelRank, platformFloor } from '../../src/pip/wheel-tags.js';
import { evaluateMarker, markerEnvFor, parseMarker, parseRequirement, requirementApplies } from '../../src/pip/markers.js';
import { parseMetadata } from '../../src/pip/metadata.js';
import { parseHtmlPage, parseJsonPage } from '../../src/pip/simple-index.js';
import { readWheelMetadata } from '../../src/pip/zip.js';
import { wantsJson } from '../../src/pip/handler.js';
import { renderProjectHtml, renderProjectJson } from '../../src/pip/index-writer.js';
import { wheelFixture } from '../fixtures/wheels/fixture.js';

const T311: { python: string; arch: 'amd64' | 'arm64'; glibc: string } = { python: '3.11', arch: 'amd64', glibc: '2.36' };
const DIST = '/usr/lib/python3/dist-packages';

describe('wheel tags', () => {
  it('parses names with build tags and compressed tag sets', () => {
    const w = parseWheelFilename('PyYAML-6.0.1-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl')!;
    expect([w.project, w.version, w.build, w.tags.length]).toEqual(['pyyaml', '6.0.1', '1', 2]);
    expect(parseWheelFilename('six-1.16.0-py2.py3-none-any.whl')!.tags.map((t) => t.python)).toEqual(['py2', 'py3']);
    expect(parseWheelFilename('foo-1.0.tar.gz')).toBeUndefined();
  });

  it('accepts what a CPython 3.11 on glibc 2.36 x86_64 can load, and nothing else', () => {
    const ok = (f: string, env = T311) => wheelRank(parseWheelFilename(f)!, env) !== undefined;
    expect(ok('a-1-cp311-cp311-manylinux_2_36_x86_64.whl')).toBe(true);
    expect(ok('a-1-cp311-cp311-manylinux_2_37_x86_64.whl')).toBe(false);
    expect(ok('a-1-cp311-cp311-manylinux2014_x86_64.whl')).toBe(true);
    expect(ok('a-1-cp311-cp311-manylinux1_x86_64.whl')).toBe(true);
    expect(ok('a-1-cp311-cp311-manylinux2014_aarch64.whl')).toBe(false);
    expect(ok('a-1-cp37-abi3-manylinux_2_17_x86_64.whl')).toBe(true);
    expect(ok('a-1-cp312-abi3-manylinux_2_17_x86_64.whl')).toBe(false);
    expect(ok('a-1-cp310-cp310-manylinux_2_17_x86_64.whl')).toBe(false);
    expect(ok('a-1-cp311-cp311-linux_x86_64.whl')).toBe(false);
    expect(ok('a-1-cp311-cp311-musllinux_1_1_x86_64.whl')).toBe(false);
    expect(ok('a-1-py3-none-any.whl')).toBe(true);
    expect(ok('a-1-py2-none-any.whl')).toBe(false);
    expect(ok('a-1-cp311-cp311-manylinux_2_17_aarch64.whl', { ...T311, arch: 'arm64' })).toBe(true);
    expect(ok('a-1-cp311-cp311-manylinux_2_36_x86_64.whl', { ...T311, glibc: '2.31' })).toBe(false);
    expect(platformFloor('manylinux2014_x86_64', 'amd64')).toEqual([2, 17]);
  });

  it('prefers wheels in the order of pip: exact ABI, abi3, newest manylinux, then pure', () => {
    const order = [
      'a-1-py3-none-any.whl',
      'a-1-cp37-abi3-manylinux_2_17_x86_64.whl',
      'a-1-cp311-cp311-manylinux_2_17_x86_64.whl',
      'a-1-cp311-cp311-manylinux_2_28_x86_64.whl',
      'a-1-cp310-abi3-manylinux_2_28_x86_64.whl',
    ].sort((a, b) => wheelRank(parseWheelFilename(a)!, T311)! - wheelRank(parseWheelFilename(b)!, T311)!);
    expect(order).toEqual([
      'a-1-cp311-cp311-manylinux_2_28_x86_64.whl',
      'a-1-cp311-cp311-manylinux_2_17_x86_64.whl',
      'a-1-cp310-abi3-manylinux_2_28_x86_64.whl',
      'a-1-cp37-abi3-manylinux_2_17_x86_64.whl',
      'a-1-py3-none-any.whl',
    ]);
  });
});

describe('PEP 508', () => {
  const env = markerEnvFor(T311);
  it('parses requirements in the forms real metadata uses', () => {
    expect(parseRequirement('resolvelib (<1.1.0,>=0.5.3)')).toMatchObject({ name: 'resolvelib', specifier: '<1.1.0,>=0.5.3' });
    expect(parseRequirement('Requests[Security,socks] >= 2.8.1, == 2.8.*')).toMatchObject({ name: 'requests', extras: ['security', 'socks'], specifier: '>=2.8.1,==2.8.*' });
    expect(parseRequirement('pip @ https://example.invalid/pip.whl ; python_version>"3"')).toMatchObject({ name: 'pip', url: 'https://example.invalid/pip.whl' });
    expect(() => parseRequirement('foo >>= 1')).toThrow(/invalid requirement/);
  });

  it('evaluates markers for the target, extras by normalised name', () => {
    const ev = (m: string, extra = '') => evaluateMarker(parseMarker(m), { ...env, extra });
    expect(ev('python_version < "3.7"')).toBe(false);
    expect(ev('python_version >= "3.8" and sys_platform == "linux"')).toBe(true);
    expect(ev('python_version < "3.10" or (platform_machine == "x86_64" and implementation_name == "cpython")')).toBe(true);
    expect(ev('platform_machine in "aarch64 arm64"')).toBe(false);
    expect(ev('"linux" in sys_platform')).toBe(true);
    expect(ev("extra == 'Fast_Mode'", 'fast-mode')).toBe(true);
    expect(ev('python_full_version >= "3.11.0"')).toBe(true);
    expect(ev('os_name != "nt"')).toBe(true);
    expect(() => parseMarker('python_version <')).toThrow();
    expect(() => parseMarker('nonsense == "1"')).toThrow(/unknown marker variable/);
  });

  it('applies every Requires-Dist of the installed Debian packages the way their extras say', () => {
    const meta = parseMetadata(readFileSync(join(DIST, 'cryptography-38.0.4.dist-info', 'METADATA'), 'utf8'));
    expect(meta.name).toBe('cryptography');
    const reqs = meta.requiresDist.map(parseRequirement);
    expect(reqs.filter((r) => requirementApplies(r, env, []))).toEqual([]);
    expect(reqs.filter((r) => requirementApplies(r, env, ['ssh'])).map((r) => r.name)).toEqual(['bcrypt']);
  });
});

describe('core metadata', () => {
  it('reads every dist-info METADATA installed on this machine', () => {
    const dirs = readdirSync(DIST).filter((d) => d.endsWith('.dist-info'));
    expect(dirs.length).toBeGreaterThan(5);
    for (const d of dirs) {
      const meta = parseMetadata(readFileSync(join(DIST, d, 'METADATA'), 'utf8'));
      expect(`${meta.name.replace(/-/g, '_')}-${meta.version}.dist-info`.toLowerCase()).toBe(d.toLowerCase());
      for (const r of meta.requiresDist) expect(() => parseRequirement(r), r).not.toThrow();
    }
    const ansible = parseMetadata(readFileSync(join(DIST, 'ansible_core-2.14.18.dist-info', 'METADATA'), 'utf8'));
    expect(ansible.requiresPython).toBe('>=3.9');
    expect(ansible.requiresDist).toContain('resolvelib (<1.1.0,>=0.5.3)');
  });
});

describe('zip reader and index pages on the fixture', () => {
  const fixture = wheelFixture();
  it('reads METADATA out of every fixture wheel byte for byte as unzip does', async () => {
    for (const f of readdirSync(join(fixture, 'files')).filter((f) => f.endsWith('.whl'))) {
      const w = parseWheelFilename(f)!;
      const ours = await readWheelMetadata(join(fixture, 'files', f), w.distribution);
      const theirs = execFileSync('unzip', ['-p', join(fixture, 'files', f), `${w.distribution}-${w.version}.dist-info/METADATA`]);
      expect(ours.equals(theirs), f).toBe(true);
    }
  });

  it('parses PEP 503 pages with hashes, unescaped requires-python, yanked and metadata attributes', () => {
    const url = 'http://127.0.0.1:1/simple/gamma/';
    const page = parseHtmlPage(readFileSync(join(fixture, 'simple', 'gamma', 'index.html'), 'utf8'), url);
    expect(page.files.map((f) => [f.filename, f.yanked])).toEqual([
      ['gamma-1.0-py3-none-any.whl', false],
      ['gamma-1.5-py3-none-any.whl', 'broken build'],
      ['gamma-2.0-py3-none-any.whl', false],
    ]);
    expect(page.files[0]!.url).toBe('http://127.0.0.1:1/files/gamma-1.0-py3-none-any.whl');
    const sha = execFileSync('sha256sum', [join(fixture, 'files', 'gamma-1.0-py3-none-any.whl')], { encoding: 'utf8' }).split(' ')[0];
    expect(page.files[0]!.sha256).toBe(sha);
    const beta = parseHtmlPage(readFileSync(join(fixture, 'simple', 'beta', 'index.html'), 'utf8'), url);
    expect(beta.files.find((f) => f.filename.startsWith('beta-2.0'))!.requiresPython).toBe('>=3.12');
    const ansible = parseHtmlPage(readFileSync(join(fixture, 'simple', 'ansible-core', 'index.html'), 'utf8'), url);
    const msha = execFileSync('sha256sum', [join(fixture, 'files', 'ansible_core-2.14.18-py3-none-any.whl.metadata')], { encoding: 'utf8' }).split(' ')[0];
    expect(ansible.files[0]!.metadata).toEqual({ sha256: msha });
  });

  it('round-trips the pages it writes, in both forms', () => {
    const wheels = [{ project: 'jinja2', filename: 'Jinja2-3.1.2-py3-none-any.whl', sha256: 'a'.repeat(64), requiresPython: '>=3.7', metadataSha256: 'b'.repeat(64) }];
    const base = 'http://h/pypi/simple/jinja2/';
    const fromHtml = parseHtmlPage(renderProjectHtml('jinja2', wheels), base).files;
    const fromJson = parseJsonPage(renderProjectJson('jinja2', wheels), base).files;
    expect(fromHtml).toEqual(fromJson);
    expect(fromHtml[0]).toEqual({ filename: 'Jinja2-3.1.2-py3-none-any.whl', url: 'http://h/pypi/files/Jinja2-3.1.2-py3-none-any.whl', sha256: 'a'.repeat(64), requiresPython: '>=3.7', yanked: false, metadata: { sha256: 'b'.repeat(64) } });
  });

  it('negotiates PEP 691 like pip, browsers and curl expect', () => {
    expect(wantsJson('application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01')).toBe(true);
    expect(wantsJson('text/html,application/xhtml+xml,*/*;q=0.8')).toBe(false);
    expect(wantsJson('*/*')).toBe(false);
    expect(wantsJson(undefined)).toBe(false);
    expect(wantsJson('text/html, application/vnd.pypi.simple.v1+json;q=0.5')).toBe(false);
  });
});
