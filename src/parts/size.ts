/**
 * A part size as coreutils `split -b` reads it: a whole number of bytes, optionally followed by K, M, G or T
 * (powers of 1024, also written KiB, MiB, ...). `KB`, `MB` (powers of 1000) are refused rather than guessed at.
 * Pure: returns undefined for anything else.
 */
export function parseSize(text: string): number | undefined {
  const m = /^([1-9][0-9]*)(?:([KMGT])(?:iB)?)?$/.exec(text.trim());
  if (!m) return undefined;
  const shift = { K: 10, M: 20, G: 30, T: 40 }[m[2] as 'K' | 'M' | 'G' | 'T'] ?? 0;
  const bytes = Number(m[1]) * 2 ** shift;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
