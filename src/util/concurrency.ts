/** Run `fn` over `items` with at most `limit` in flight; the first failure stops new work and is rethrown. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

/**
 * At most `limit` tasks in flight among everyone who shares this limiter, started in order of arrival. A build
 * passes one to every collector, so `--concurrency n` means n downloads at once in all, not n per kind.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<{ start: () => void; refuse: (reason: unknown) => void }> = [];
  private stopped: { reason: unknown } | undefined;

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.stopped) throw this.stopped.reason;
    if (this.active < this.limit) this.active++;
    // A finishing task hands its slot straight to the first in line, so `active` never overshoots.
    else await new Promise<void>((start, refuse) => this.waiting.push({ start, refuse }));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next.start();
      else this.active--;
    }
  }

  /** Start nothing more: what waits and what comes later fails with `reason`; what runs finishes. */
  stop(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = { reason };
    for (const w of this.waiting.splice(0)) w.refuse(reason);
  }
}
