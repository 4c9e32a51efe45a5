import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateBundleBytes, tarFileBytes, type EstimateInput } from '../../../src/assemble/estimate.js';

const demo = JSON.parse(readFileSync(join(__dirname, 'samples', 'demo-bundle.json'), 'utf8')) as EstimateInput & { tarBytes: number };

describe('tarFileBytes: one file in a ustar archive', () => {
  it('is a 512-byte header and the body padded to whole 512-byte blocks', () => {
    expect(tarFileBytes('a', 0, 'top')).toBe(512);
    expect(tarFileBytes('a', 1, 'top')).toBe(1024);
    expect(tarFileBytes('a', 512, 'top')).toBe(1024);
    expect(tarFileBytes('a', 513, 'top')).toBe(1536);
  });

  it('takes a PAX header (a header block and a block of records) more when the path passes 100 bytes', () => {
    const path = `repos/images/blobs/sha256/${'a'.repeat(64)}`;
    expect(`ks-demo-0.1.0/${path}`.length).toBeGreaterThan(100);
    expect(tarFileBytes(path, 1, 'ks-demo-0.1.0')).toBe(512 + 512 + 1024);
    expect(tarFileBytes(path, 1, 'k')).toBe(512 + 512);
  });
});

describe('estimateBundleBytes', () => {
  it('is within 1% of the tarball a real build of the demo manifest wrote', () => {
    const { tarBytes, ...input } = demo;
    const estimate = estimateBundleBytes(input);
    expect(Math.abs(estimate - tarBytes) / tarBytes).toBeLessThan(0.01);
  });

  it('grows by an artifact\'s bytes and its tar overhead when the plan has one more', () => {
    const { tarBytes: _, ...input } = demo;
    const more = { ...input, kinds: { ...input.kinds, debs: { count: 81, bytes: input.kinds.debs.bytes + 1_000_000, cachedBytes: 0 } } };
    const diff = estimateBundleBytes(more) - estimateBundleBytes(input);
    expect(diff).toBeGreaterThan(1_000_000 + 512);
    expect(diff).toBeLessThan(1_000_000 + 8 * 1024);
  });

  it('counts the fixed members and the bundle\'s own files for a plan with no artifacts', () => {
    const none = Object.fromEntries(Object.keys(demo.kinds).map((k) => [k, { count: 0, bytes: 0, cachedBytes: 0 }])) as EstimateInput['kinds'];
    const estimate = estimateBundleBytes({ kinds: none, generatedBytes: 0, fixed: demo.fixed, top: demo.top });
    const fixedBytes = demo.fixed.reduce((n, f) => n + f.size, 0);
    expect(estimate).toBeGreaterThan(fixedBytes + demo.fixed.length * 512);
    expect(estimate).toBeLessThan(fixedBytes + 64 * 1024);
  });
});
