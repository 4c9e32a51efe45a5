import { describe, expect, it } from 'vitest';
import { MissList } from '../../../src/mirror/misses.js';

const miss = (path: string) => ({ time: '2026-12-05T12:00:00.000Z', method: 'GET', path, client: '10.0.0.7', reason: 'not in bundle' });

describe('MissList', () => {
  it('keeps the latest misses up to its cap, and counts every one', () => {
    const list = new MissList(3);
    for (let i = 1; i <= 10; i++) list.add(miss(`/files/f${i}`));
    expect(list.total).toBe(10);
    expect(list.since().map((m) => [m.seq, m.path])).toEqual([
      [8, '/files/f8'],
      [9, '/files/f9'],
      [10, '/files/f10'],
    ]);
  });

  it('gives what came after a mark', () => {
    const list = new MissList(100);
    for (let i = 1; i <= 5; i++) list.add(miss(`/v2/x${i}`));
    const mark = list.total;
    list.add(miss('/apt/late'));
    expect(list.since(mark)).toEqual([{ seq: 6, ...miss('/apt/late') }]);
    expect(list.since(list.total)).toEqual([]);
  });
});
