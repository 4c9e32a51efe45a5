import { describe, expect, it } from 'vitest';
import { parseYamlWithPositions } from '../../../src/manifest/yaml-positions.js';

describe('parseYamlWithPositions', () => {
  it('keeps each scalar as written beside what YAML made of it', () => {
    const { value, positions } = parseYamlWithPositions('metadata: {name: x, version: 1.10}\nspec:\n  python: 3.10   # a comment\n  list:\n    - 1.0\n    - "q"\n', 'm.yaml');
    expect(value).toEqual({ metadata: { name: 'x', version: 1.1 }, spec: { python: 3.1, list: [1, 'q'] } });
    expect(positions.get('metadata.version')).toEqual({ line: 1, column: 21, source: '1.10' });
    expect(positions.get('spec.python')).toEqual({ line: 3, column: 3, source: '3.10' });
    expect(positions.get('spec.list[0]')?.source).toBe('1.0');
    expect(positions.get('spec.list[1]')?.source).toBe('"q"');
    expect(positions.get('spec')?.source).toBeUndefined();
  });

  it('parses under the limits: an alias bomb is refused, not expanded', () => {
    const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)].join('\n');
    expect(() => parseYamlWithPositions(bomb, 'm.yaml')).toThrow(/too many aliases/);
  });
});
