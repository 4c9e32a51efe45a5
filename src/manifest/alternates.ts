import type { Alternate } from './types.js';

/**
 * Every place to try for one artifact, in order: its original name (an image reference, a URL), then each alternate
 * whose prefix it starts with, the prefix replaced by the alternate's. Pure; duplicates are dropped.
 */
export function sourcesOf(original: string, alternates: readonly Alternate[]): string[] {
  const out = [original];
  for (const a of alternates) {
    if (!original.startsWith(a.prefix)) continue;
    const rest = original.slice(a.prefix.length);
    for (const to of a.to) if (!out.includes(to + rest)) out.push(to + rest);
  }
  return out;
}
