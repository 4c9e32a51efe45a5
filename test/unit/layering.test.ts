import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering must be visible from the folders: the graph of "a folder under src/ imports another" has no cycle.
 * A cycle means a shared type lives in the wrong place (see docs/ARCHITECTURE.md, "Layers").
 */
const SRC = resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

function folderGraph(): Map<string, Set<string>> {
  const folderOf = (p: string) => relative(SRC, p).split(sep)[0]!.replace(/\.ts$/, '');
  const spec = /(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, new Set());
    for (const m of readFileSync(file, 'utf8').matchAll(spec)) {
      const target = m[1] ?? m[2]!;
      if (!target.startsWith('.')) continue;
      const to = folderOf(resolve(dirname(file), target));
      if (to !== from) graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** Every cycle's folders, found by a depth-first search (the graph has a few dozen nodes). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

describe('layering', () => {
  it('has no cycle between the folders under src/', () => {
    expect(cycles(folderGraph()).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('would notice a cycle (the check itself works)', () => {
    const g = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]);
    expect(cycles(g)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
