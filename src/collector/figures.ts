import type { ContentStore } from '../store/content-store.js';
import { mapLimit } from '../util/concurrency.js';
import type { KindFigures } from './context.js';

/**
 * A kind's figures when each artifact is one blob known by sha256 and size before it is fetched (a deb, a wheel): how
 * many, their bytes, and the bytes the store already holds. An artifact without a digest counts as not cached.
 */
export async function blobFigures(items: ReadonlyArray<{ sha256?: string; size: number }>, store: ContentStore): Promise<KindFigures> {
  const cached = await mapLimit(items, 16, async (i) => (i.sha256 ? !!(await store.has(i.sha256, i.size)) : false));
  return {
    count: items.length,
    bytes: items.reduce((n, i) => n + i.size, 0),
    cachedBytes: items.reduce((n, i, k) => n + (cached[k] ? i.size : 0), 0),
  };
}
