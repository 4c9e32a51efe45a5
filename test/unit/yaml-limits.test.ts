import { describe, expect, it } from 'vitest';
import { loadYamlLimited, YamlLimitError } from '../../src/util/yaml.js';

/** The classic "billion laughs" in YAML: each level names the previous one nine times. */
function aliasBomb(levels: number): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}

describe('loadYamlLimited', () => {
  it('reads ordinary YAML, with the core schema by default', () => {
    expect(loadYamlLimited('a: 1\nb: [x, y]\nc: on\n')).toEqual({ a: 1, b: ['x', 'y'], c: 'on' });
  });

  it('refuses an alias bomb quickly, without expanding it', () => {
    const started = process.memoryUsage().heapUsed;
    expect(() => loadYamlLimited(aliasBomb(9))).toThrow(/more than 200000 values/);
    expect(process.memoryUsage().heapUsed - started).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses text past the size limit and nesting past the depth limit', () => {
    expect(() => loadYamlLimited('a: 1\n', { limits: { maxBytes: 3 } })).toThrow(/larger than 3 bytes/);
    expect(() => loadYamlLimited('['.repeat(80) + ']'.repeat(80))).toThrow(/deeper than 64/);
  });

  it('reports a syntax error by line and column, without quoting the line (it may hold a password)', () => {
    let err: unknown;
    try {
      loadYamlLimited('ok: 1\nansible_password: "s3cret\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(YamlLimitError);
    expect((err as YamlLimitError).line).toBeGreaterThanOrEqual(2);
    expect(String((err as Error).message)).not.toContain('s3cret');
  });
});
