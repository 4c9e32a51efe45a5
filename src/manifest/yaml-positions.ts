import yaml from 'js-yaml';

export interface Position {
  line: number;
  column: number;
}

export interface LocatedYaml {
  value: unknown;
  /** `spec.files[2].sha256` → where that key (or sequence item) stands, 1-based. */
  positions: Map<string, Position>;
}

interface Frame {
  line: number;
  column: number;
  result?: unknown;
  kind?: string;
  children: Frame[];
}

/**
 * Parse YAML and remember where every mapping key and sequence item stands, so validation can say
 * `file:line:column` for each problem. js-yaml has no AST; its parse listener reports open/close of every node,
 * which is enough to rebuild one. Pure. Throws js-yaml's YAMLException (which carries a mark) on bad syntax.
 */
export function parseYamlWithPositions(text: string, filename: string): LocatedYaml {
  const root: Frame = { line: 0, column: 0, children: [] };
  const stack: Frame[] = [root];
  const value = yaml.load(text, {
    filename,
    schema: yaml.CORE_SCHEMA,
    listener(event, state: any) {
      if (event === 'open') {
        stack.push({ line: state.line, column: Math.max(0, state.position - state.lineStart), children: [] });
      } else {
        const frame = stack.pop()!;
        frame.result = state.result;
        frame.kind = state.kind;
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
    walk(doc, '', positions);
  }
  return { value, positions };
}

function walk(frame: Frame, path: string, out: Map<string, Position>): void {
  const result = frame.result;
  if (Array.isArray(result)) {
    frame.children.forEach((child, i) => {
      const p = `${path}[${i}]`;
      out.set(p, { line: child.line + 1, column: child.column + 1 });
      walk(child, p, out);
    });
  } else if (result && typeof result === 'object') {
    for (let i = 0; i + 1 < frame.children.length; i += 2) {
      const key = frame.children[i]!;
      const p = path ? `${path}.${String(key.result)}` : String(key.result);
      out.set(p, { line: key.line + 1, column: key.column + 1 });
      walk(frame.children[i + 1]!, p, out);
    }
  }
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
