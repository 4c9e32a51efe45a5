import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iterateStanzas, parseDeb822 } from '../../../src/apt/deb822.js';
import { PackageIndex } from '../../../src/apt/index.js';
import { parseRelations } from '../../../src/apt/relation.js';
import { baselineFromStatus } from '../../../src/apt/baseline.js';
import { resolveClosure, ResolveError } from '../../../src/apt/resolve.js';
import { rewriteFilename, poolPath } from '../../../src/apt/repo.js';

const sample = (f: string) => readFileSync(join(import.meta.dirname, '..', '..', 'apt', 'samples', f), 'utf8');
const sampleBytes = (f: string) => readFileSync(join(import.meta.dirname, '..', '..', 'apt', 'samples', f));

describe('deb822 on real bookworm Packages stanzas', () => {
  const text = sample('bookworm-main-amd64-Packages.sample');
  const bytes = sampleBytes('bookworm-main-amd64-Packages.sample');
  const stanzas = parseDeb822(text);

  it('finds every stanza and field', () => {
    expect(stanzas.map((s) => s['Package']).sort()).toEqual(['conntrack', 'init-system-helpers', 'libc6', 'mawk', 'python3', 'python3-pip', 'socat']);
    const socat = stanzas.find((s) => s['Package'] === 'socat')!;
    expect(socat['Version']).toBe('1.7.4.4-2');
    expect(socat['SHA256']).toMatch(/^[0-9a-f]{64}$/);
    expect(socat['Filename']).toBe('pool/main/s/socat/socat_1.7.4.4-2_amd64.deb');
  });

  it('keeps multi-line values (a real dpkg status: Description, Conffiles)', () => {
    const status = parseDeb822(sample('status.sample'));
    const libc6 = status.find((s) => s['Package'] === 'libc6')!;
    expect(libc6['Description']!.split('\n').length).toBeGreaterThan(3);
    expect(libc6['Description']!.split('\n')[1]).toBe(status.find((s) => s['Package'] === 'libc6')!['Description']!.split('\n')[1]);
    const base = status.find((s) => s['Package'] === 'base-files')!;
    expect(base['Conffiles']!.split('\n')[0]).toBe('');
    expect(base['Conffiles']!.split('\n')[1]).toMatch(/^ ?\/etc\/\S+ [0-9a-f]{32}/);
  });

  it('gives byte offsets that cut the stanza verbatim', () => {
    for (const s of iterateStanzas(bytes)) {
      const raw = bytes.toString('latin1', s.start, s.end);
      expect(raw.startsWith(`Package: ${s.fields['Package']}\n`)).toBe(true);
      expect(raw.endsWith('\n')).toBe(false);
    }
  });

  it('parses relations: alternatives, versions, arch qualifiers', () => {
    const ish = stanzas.find((s) => s['Package'] === 'init-system-helpers')!;
    const deps = parseRelations(ish['Depends']);
    expect(deps.some((g) => g.length === 2 && g[0]!.name === 'usrmerge' && g[1]!.name === 'usr-is-merged')).toBe(true);
    expect(parseRelations('perl:any, libc6 (>= 2.34), foo [!amd64], python3:native (<< 3.12)', 'amd64')).toEqual([
      [{ name: 'perl', archQual: 'any' }],
      [{ name: 'libc6', op: '>=', version: '2.34' }],
      [{ name: 'python3', archQual: 'native', op: '<<', version: '3.12' }],
    ]);
    expect(parseRelations('a (< 1), b (> 2)')).toEqual([[{ name: 'a', op: '<=', version: '1' }], [{ name: 'b', op: '>=', version: '2' }]]);
  });

  it('reads a real dpkg status file (installed packages and their Provides)', () => {
    const base = baselineFromStatus(sample('status.sample'), 'amd64');
    expect([...base.keys()].sort()).toEqual(['base-files', 'libc6', 'mawk']);
    expect(base.get('mawk')!.provides.map((p) => p.name)).toContain('awk');
  });

  it('resolves over the sample: Provides satisfy virtual deps, failures name the chain', () => {
    const idx = new PackageIndex('amd64');
    idx.addPackagesBytes(bytes, 'sample');
    const base = baselineFromStatus(sample('status.sample'), 'amd64');
    // mawk needs libc6, which the status has: nothing else is pulled in.
    expect(resolveClosure(idx, ['mawk'], { baseline: base }).selected.map((s) => s.pkg.name)).toEqual(['mawk']);
    // Without a baseline libc6 is followed too, and its libgcc-s1 is not in the sample.
    expect(() => resolveClosure(idx, ['mawk'])).toThrow(/mawk -> libc6 \(>= [^)]+\) -> libgcc-s1/);
    // socat needs libssl3, which the sample lacks: the error names the chain and what the index offers.
    let err: unknown;
    try {
      resolveClosure(idx, ['socat'], { baseline: base });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResolveError);
    expect((err as Error).message).toContain('socat -> libssl3 (>= 3.0.0): the index has no libssl3 for amd64');
  });

  it('rewrites Filename into the pool and nothing else', () => {
    const raw = bytes.toString('latin1', ...(() => { for (const s of iterateStanzas(bytes)) if (s.fields['Package'] === 'socat') return [s.start, s.end] as const; throw 0; })());
    const pool = poolPath('socat', 'pool/main/s/socat/socat_1.7.4.4-2_amd64.deb');
    expect(pool).toBe('pool/main/s/socat/socat_1.7.4.4-2_amd64.deb');
    expect(poolPath('libcap2', 'pool/main/libc/libcap2/libcap2_1_amd64.deb')).toBe('pool/main/libc/libcap2/libcap2_1_amd64.deb');
    const out = rewriteFilename(raw, 'pool/main/x/y.deb');
    expect(out.replace('Filename: pool/main/x/y.deb', `Filename: ${pool}`)).toBe(raw + '\n');
  });
});
