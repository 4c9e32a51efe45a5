import { describe, expect, it } from 'vitest';
import { parseRange } from '../../../src/serving/range.js';

/** Range headers as real clients send them: curl -r, apt and containerd resuming, skopeo, and malformed ones. */
describe('parseRange', () => {
  const SIZE = 1000;
  it.each([
    [undefined, { kind: 'full' }],
    ['bytes=0-99', { kind: 'partial', start: 0, end: 99 }], // curl -r 0-99
    ['bytes=500-', { kind: 'partial', start: 500, end: 999 }], // apt, containerd: resume from byte 500
    ['bytes=-100', { kind: 'partial', start: 900, end: 999 }], // the last 100 bytes
    ['bytes=-5000', { kind: 'partial', start: 0, end: 999 }], // a suffix longer than the file: all of it
    ['bytes=990-5000', { kind: 'partial', start: 990, end: 999 }], // an end past the file is cut to it
    ['bytes=999-999', { kind: 'partial', start: 999, end: 999 }],
    [' bytes=0-0 ', { kind: 'partial', start: 0, end: 0 }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=5-4', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', { kind: 'full' }], // multi-range may be ignored (RFC 9110 §14.2)
    ['items=0-5', { kind: 'full' }],
    ['bytes=-', { kind: 'full' }],
    ['bytes=abc-def', { kind: 'full' }],
  ] as const)('%s → %j', (header, want) => {
    expect(parseRange(header, SIZE)).toEqual(want);
  });

  it('an empty file satisfies no range', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange(undefined, 0)).toEqual({ kind: 'full' });
  });
});
