/** `sha256sum -c` format: `<64 hex><space><space><path>`, sorted by path. Pure. */
export function renderSums(entries: Iterable<[path: string, sha256: string]>): string {
  const rows = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return rows.map(([p, h]) => `${h}  ${p}\n`).join('');
}

export interface ParsedSums {
  /** path → sha256, the first line of each path. */
  sums: Map<string, string>;
  /** Lines that are not in the format, 1-based. */
  badLines: number[];
  /** A path listed again (1-based line of the repeat): `sha256sum -c` would check it twice, against two digests. */
  duplicates: Array<{ path: string; line: number }>;
}

export function parseSums(text: string): ParsedSums {
  const sums = new Map<string, string>();
  const badLines: number[] = [];
  const duplicates: ParsedSums['duplicates'] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) badLines.push(i + 1);
    else if (sums.has(m[2]!)) duplicates.push({ path: m[2]!, line: i + 1 });
    else sums.set(m[2]!, m[1]!);
  });
  return { sums, badLines, duplicates };
}
