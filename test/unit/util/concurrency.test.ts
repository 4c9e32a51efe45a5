import { describe, expect, it } from 'vitest';
import { Limiter } from '../../../src/util/concurrency.js';

describe('Limiter', () => {
  it('never runs more than its limit at once, across callers, and runs everything in order of arrival', async () => {
    const limiter = new Limiter(3);
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const task = (i: number) => async () => {
      started.push(i);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1 + (i % 4)));
      inFlight--;
      return i;
    };
    // Two "collectors" sharing one limiter.
    const a = Promise.all(Array.from({ length: 10 }, (_, i) => limiter.run(task(i))));
    const b = Promise.all(Array.from({ length: 10 }, (_, i) => limiter.run(task(100 + i))));
    expect(await a).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect((await b).length).toBe(10);
    expect(peak).toBe(3);
    expect(started.slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('frees the slot of a task that fails', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
  });

  it('once stopped, starts nothing more: waiting and later tasks fail with the reason, running ones finish', async () => {
    const limiter = new Limiter(1);
    let release!: () => void;
    const running = limiter.run(() => new Promise<string>((r) => (release = () => r('finished'))));
    const waiting = limiter.run(async () => 'never');
    const reason = new Error('a collector failed');
    limiter.stop(reason);
    release();
    await expect(running).resolves.toBe('finished');
    await expect(waiting).rejects.toBe(reason);
    await expect(limiter.run(async () => 'later')).rejects.toBe(reason);
  });
});
