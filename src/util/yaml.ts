import yaml from 'js-yaml';

/**
 * Limits for YAML that comes from a user or a bundle. js-yaml resolves an alias to the same object, so parsing an
 * alias bomb is cheap; what costs memory is everything that walks the value afterwards (validation, JSON for an
 * error). So the value is walked once here, counting every node as often as aliases make it reachable, and refused
 * past the budget before anyone else sees it.
 */
export interface YamlLimits {
  /** Bytes of source text. */
  maxBytes: number;
  /** Nodes reachable from the root, counting a node once per path that reaches it (aliases expanded). */
  maxNodes: number;
  /** Nesting of mappings and sequences. */
  maxDepth: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = { maxBytes: 4 * 1024 * 1024, maxNodes: 200_000, maxDepth: 64 };

/** Why a YAML text was refused, with a 1-based line where the parser knows one. Never quotes the source line. */
export class YamlLimitError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

/**
 * Parse one YAML document under the limits. Pure. Errors carry only a reason and a place: js-yaml's own message
 * quotes the offending source line, which may hold a password.
 */
export function loadYamlLimited(
  text: string,
  options: { filename?: string; schema?: yaml.Schema; listener?: yaml.LoadOptions['listener']; limits?: Partial<YamlLimits> } = {},
): unknown {
  const limits = { ...DEFAULT_YAML_LIMITS, ...options.limits };
  if (Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
    throw new YamlLimitError(`larger than ${limits.maxBytes} bytes`, 1, 1);
  }
  let value: unknown;
  try {
    value = yaml.load(text, { filename: options.filename, schema: options.schema ?? yaml.CORE_SCHEMA, listener: options.listener });
  } catch (err) {
    const e = err as { reason?: string; mark?: { line?: number; column?: number } };
    throw new YamlLimitError(`not valid YAML: ${e.reason ?? 'parse error'}`, (e.mark?.line ?? 0) + 1, (e.mark?.column ?? 0) + 1);
  }
  checkShape(value, limits);
  return value;
}

function checkShape(root: unknown, limits: YamlLimits): void {
  let nodes = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 0 }];
  while (stack.length) {
    const { value, depth } = stack.pop()!;
    if (++nodes > limits.maxNodes) {
      throw new YamlLimitError(`expands to more than ${limits.maxNodes} values (too many aliases?)`, 1, 1);
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= limits.maxDepth) throw new YamlLimitError(`nested deeper than ${limits.maxDepth} levels`, 1, 1);
    const children = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
}
