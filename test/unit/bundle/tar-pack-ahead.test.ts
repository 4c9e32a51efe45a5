import { describe, expect, it } from 'vitest';
import { samePlan } from '../../../src/bundle/tar-pack-ahead.js';
import type { TarItem } from '../../../src/bundle/tar-writer.js';

const H = (c: string) => c.repeat(64);
const items = (): TarItem[] => [
  { path: 'b-1/', type: 'Directory', mode: 0o755, size: 0 },
  { path: 'b-1/bundle.yaml', type: 'File', mode: 0o644, size: 3, data: Buffer.from('a: ') },
  { path: 'b-1/bin/node', type: 'File', mode: 0o755, size: 10, file: `/cache/sha256/aa/${H('a')}`, sha256: H('a') },
  { path: 'b-1/playbooks/site.yml', type: 'File', mode: 0o644, size: 5, file: '/work/pb/site.yml', sha256: H('b') },
];
const planned = () => [
  { path: 'b-1/', type: 'Directory' as const, mode: 0o755, size: 0 },
  { path: 'b-1/bundle.yaml', type: 'File' as const, mode: 0o644, size: 3, data: Buffer.from('a: ').toString('base64') },
  { path: 'b-1/bin/node', type: 'File' as const, mode: 0o755, size: 10, sha256: H('a') },
  { path: 'b-1/playbooks/site.yml', type: 'File' as const, mode: 0o644, size: 5, sha256: H('b'), later: true as const },
];

describe('samePlan', () => {
  it('takes the same headers, inline bodies and body digests, wherever the bodies are', () => {
    expect(samePlan(planned(), items())).toBe(true);
    const moved = items();
    moved[2] = { ...moved[2]!, file: '/elsewhere/node' };
    expect(samePlan(planned(), moved)).toBe(true);
  });

  it('refuses any difference: a body digest, an inline byte, a mode, a size, an item more or less', () => {
    const digest = items();
    digest[3] = { ...digest[3]!, sha256: H('c') };
    expect(samePlan(planned(), digest)).toBe(false);
    const inline = items();
    inline[1] = { ...inline[1]!, data: Buffer.from('a:2') };
    expect(samePlan(planned(), inline)).toBe(false);
    const mode = items();
    mode[2] = { ...mode[2]!, mode: 0o644 };
    expect(samePlan(planned(), mode)).toBe(false);
    const size = planned();
    size[2] = { ...size[2]!, size: 11 };
    expect(samePlan(size, items())).toBe(false);
    expect(samePlan(planned().slice(0, 3), items())).toBe(false);
    expect(samePlan(planned(), items().slice(0, 3))).toBe(false);
  });

  it('refuses a file body without a digest, and an inline body where the plan had a file', () => {
    const unknown = items();
    unknown[2] = { ...unknown[2]!, sha256: undefined };
    expect(samePlan(planned(), unknown)).toBe(false);
    const inline = items();
    inline[2] = { ...inline[2]!, file: undefined, data: Buffer.alloc(10) };
    expect(samePlan(planned(), inline)).toBe(false);
  });
});
