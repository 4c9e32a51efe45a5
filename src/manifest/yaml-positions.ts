import { loadYamlLimited } from '../util/yaml.js';

export interface Position {
  line: number;
  column: number;
  /** For a scalar value: its text as written in the source (`1.10`, not the number 1.1 YAML made of it). */
  source?: string;
}

export interface LocatedYaml {
  value: unknown;
  /** `spec.files[2].sha256` → where that key (or sequence item) stands, 1-based. */
  positions: Map<string, Position>;
}

interface Frame {
  line: number;
  column: number;
  /** Offsets of the node's text in the source. */
  start: number;
  end: number;
  result?: unknown;
  kind?: string;
  children: Frame[];
}

/**
 * Parse YAML and remember where every mapping key and sequence item stands, so validation can say
 * `file:line:column` for each problem. js-yaml has no AST; its parse listener reports open/close of every node,
 * which is enough to rebuild one. Pure. Parsed under the limits of `loadYamlLimited` (size, aliases, depth); throws
 * its YamlLimitError (a reason and a 1-based line and column, never the source line) on bad syntax or a limit.
 */
export function parseYamlWithPositions(text: string, filename: string): LocatedYaml {
  const root: Frame = { line: 0, column: 0, start: 0, end: 0, children: [] };
  const stack: Frame[] = [root];
  const value = loadYamlLimited(text, {
    filename,
    listener(event, state: any) {
      if (event === 'open') {
        stack.push({ line: state.line, column: Math.max(0, state.position - state.lineStart), start: state.position, end: state.position, children: [] });
      } else {
        const frame = stack.pop()!;
        frame.result = state.result;
        frame.kind = state.kind;
        frame.end = state.position;
        // An item is sometimes wrapped in a frame that just hands its only child's result up.
        const node = frame.children.length === 1 && frame.children[0]!.result === frame.result ? frame.children[0]! : frame;
        stack[stack.length - 1]!.children.push(node);
      }
    },
  });
  const positions = new Map<string, Position>();
  const doc = root.children[0];
  if (doc) {
    positions.set('', { line: doc.line + 1, column: doc.column + 1 });
    walk(doc, '', positions, text);
  }
  return { value, positions };
}

function walk(frame: Frame, path: string, out: Map<string, Position>, text: string): void {
  const result = frame.result;
  if (Array.isArray(result)) {
    frame.children.forEach((child, i) => {
      const p = `${path}[${i}]`;
      out.set(p, { line: child.line + 1, column: child.column + 1, ...scalarSource(child, text) });
      walk(child, p, out, text);
    });
  } else if (result && typeof result === 'object') {
    for (let i = 0; i + 1 < frame.children.length; i += 2) {
      const key = frame.children[i]!;
      const value = frame.children[i + 1]!;
      const p = path ? `${path}.${String(key.result)}` : String(key.result);
      out.set(p, { line: key.line + 1, column: key.column + 1, ...scalarSource(value, text) });
      walk(value, p, out, text);
    }
  }
}

/** A scalar's text as written, without the spaces and comment js-yaml's offsets take in around it. */
function scalarSource(frame: Frame, text: string): { source?: string } {
  if (frame.result !== null && typeof frame.result === 'object') return {};
  const raw = text.slice(frame.start, frame.end).trim();
  return raw ? { source: raw.replace(/\s+#.*$/, '') } : {};
}

/** The nearest known position for a path: the path itself, else its closest ancestor. */
export function positionOf(positions: Map<string, Position>, path: string): Position {
  let p = path;
  for (;;) {
    const hit = positions.get(p);
    if (hit) return hit;
    if (!p) return { line: 1, column: 1 };
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
}
