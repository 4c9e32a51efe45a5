import { describe, expect, it } from 'vitest';
import { sbomKey } from '../../../src/assemble/sbom-once.js';
import type { BundleEntry } from '../../../src/bundle/entry.js';

const H = (c: string) => c.repeat(64);
const entries = (): BundleEntry[] => [
  { path: 'bin/ks-bundle.mjs', file: '/cache/a', size: 3, sha256: H('a') },
  { path: 'repos/pip/files/x.whl.metadata', data: Buffer.from('Name: x\nLicense: MIT\n'), size: 21 },
];

describe('sbomKey', () => {
  it('is the same for the same lock and files, wherever the files are', () => {
    const moved = entries();
    moved[0] = { ...moved[0]!, file: '/elsewhere/a' };
    expect(sbomKey('lock', moved)).toBe(sbomKey('lock', entries()));
  });

  it('changes with the lock, a file digest, the bytes of an inline file, and a path', () => {
    const base = sbomKey('lock', entries());
    expect(sbomKey('lock2', entries())).not.toBe(base);
    const digest = entries();
    digest[0] = { ...digest[0]!, sha256: H('b') };
    expect(sbomKey('lock', digest)).not.toBe(base);
    const bytes = entries();
    bytes[1] = { ...bytes[1]!, data: Buffer.from('Name: x\nLicense: BSD\n') };
    expect(sbomKey('lock', bytes)).not.toBe(base);
    const path = entries();
    path[0] = { ...path[0]!, path: 'bin/other.mjs' };
    expect(sbomKey('lock', path)).not.toBe(base);
  });

  it('is none when a file digest is not known', () => {
    const unknown = entries();
    unknown[0] = { ...unknown[0]!, sha256: undefined };
    expect(sbomKey('lock', unknown)).toBeUndefined();
  });
});
