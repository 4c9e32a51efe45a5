import { describe, expect, it } from 'vitest';
import { parseParts, partName, renderParts } from '../../../src/parts/parts-file.js';
import { parseSize } from '../../../src/parts/size.js';

const H = 'ab'.repeat(32);

describe('parseSize (as coreutils split -b)', () => {
  it('reads bytes and K, M, G, T as powers of 1024', () => {
    expect(parseSize('1')).toBe(1);
    expect(parseSize('700K')).toBe(700 * 1024);
    expect(parseSize('700M')).toBe(700 * 1024 * 1024);
    expect(parseSize('4G')).toBe(4 * 2 ** 30);
    expect(parseSize('4GiB')).toBe(4 * 2 ** 30);
    expect(parseSize('1T')).toBe(2 ** 40);
  });
  it('refuses zero, decimal units, fractions, signs and words', () => {
    for (const bad of ['0', '', '10MB', '1.5G', '-1', '+1', 'G', '4g', 'lots']) expect(parseSize(bad), bad).toBeUndefined();
  });
});

describe('the .parts file', () => {
  it('numbers parts from 001, wider only past 999', () => {
    expect(partName('b.tar', 0, 3)).toBe('b.tar.part001');
    expect(partName('b.tar', 41, 999)).toBe('b.tar.part042');
    expect(partName('b.tar', 0, 1200)).toBe('b.tar.part0001');
  });
  it('round-trips in sha256sum format', () => {
    const parts = [{ name: 'b.tar.part001', sha256: H }, { name: 'b.tar.part002', sha256: H }];
    const text = renderParts(parts);
    expect(text).toBe(`${H}  b.tar.part001\n${H}  b.tar.part002\n`);
    expect(parseParts(text)).toEqual({ ok: true, parts });
    // sha256sum's binary-mode marker is read too.
    expect(parseParts(`${H} *b.tar.part001\n`)).toEqual({ ok: true, parts: [parts[0]] });
  });
  it('refuses paths, duplicates, empty lists and malformed lines, naming the line', () => {
    expect(parseParts(`${H}  ok\n${H}  ../x\n`)).toMatchObject({ ok: false, line: 2 });
    expect(parseParts(`${H}  /etc/passwd\n`)).toMatchObject({ ok: false, line: 1 });
    expect(parseParts(`${H}  ..\n`)).toMatchObject({ ok: false, line: 1 });
    expect(parseParts(`${H}  a\n${H}  a\n`)).toMatchObject({ ok: false, line: 2, reason: 'a is listed twice' });
    expect(parseParts('')).toMatchObject({ ok: false });
    expect(parseParts(`${H.toUpperCase()}  a\n`)).toMatchObject({ ok: false, line: 1 });
    expect(parseParts(`${H}  a\n\n${H}  b\n`)).toMatchObject({ ok: false, line: 2 });
  });
});
