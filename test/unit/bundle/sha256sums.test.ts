import { describe, expect, it } from 'vitest';
import { parseSums, renderSums } from '../../../src/bundle/sha256sums.js';

const A = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881';
const B = '87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7';

describe('parseSums', () => {
  it('reads `sha256sum` output, text and binary mode, names with spaces', () => {
    // sha256sum top/short.txt "two  spaces.txt"; sha256sum -b writes " *" instead of two spaces.
    const { sums, badLines, duplicates } = parseSums(`${A}  top/short.txt\n${B}  two  spaces.txt\n${A} *bin/x\n`);
    expect([...sums]).toEqual([['top/short.txt', A], ['two  spaces.txt', B], ['bin/x', A]]);
    expect(badLines).toEqual([]);
    expect(duplicates).toEqual([]);
  });

  it('names the lines that are not in the format', () => {
    expect(parseSums(`${A}  a\nnot a line\n${A.toUpperCase()}  b\n${A} c\n`).badLines).toEqual([2, 3, 4]);
  });

  it('a path listed twice is a duplicate, the first line counts', () => {
    const { sums, duplicates } = parseSums(`${A}  a\n${B}  b\n${B}  a\n`);
    expect(sums.get('a')).toBe(A);
    expect(duplicates).toEqual([{ path: 'a', line: 3 }]);
  });

  it('renderSums writes what parseSums reads, sorted by path', () => {
    const text = renderSums([['b', B], ['a', A]]);
    expect(text).toBe(`${A}  a\n${B}  b\n`);
    expect([...parseSums(text).sums]).toEqual([['a', A], ['b', B]]);
  });
});
