import type { Problem } from '../errors.js';
import { positionOf, type Position } from './yaml-positions.js';
import { nearestName } from '../text/nearest.js';

/**
 * Collects every problem of one YAML document with its location, so one run reports them all.
 * Small typed readers: each returns the value when it is right, undefined (and a problem) when not.
 */
export class Checker {
  readonly problems: Problem[] = [];
  /** Things that are allowed but probably not meant, each with its place; the loader passes them on. */
  readonly warnings: Problem[] = [];
  private readonly deferred: Array<() => Promise<void>> = [];

  constructor(readonly file: string, private readonly positions: Map<string, Position>) {}

  /** A check that needs I/O (a file a key names): validation stays pure, the loader runs it with `settle`. */
  later(check: () => Promise<void>): void {
    this.deferred.push(check);
  }

  /** Run the checks `later` collected; their problems join the others. */
  async settle(): Promise<void> {
    await Promise.all(this.deferred.splice(0).map((check) => check()));
  }

  report(path: string, message: string): void {
    const { line, column } = positionOf(this.positions, path);
    this.problems.push({ file: this.file, line, column, path, message });
  }

  warn(path: string, message: string): void {
    const { line, column } = positionOf(this.positions, path);
    this.warnings.push({ file: this.file, line, column, path, message });
  }

  /** The line a path stands on, for messages that name a second place. */
  lineOf(path: string): number {
    return positionOf(this.positions, path).line;
  }

  object(value: unknown, path: string, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.report(path, `expected a mapping, got ${describe(value)}`);
      return undefined;
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        const close = nearestName(key, allowed);
        this.report(join(path, key), `unknown key "${key}"${close ? `; did you mean "${close}"?` : ''} (allowed: ${allowed.join(', ')})`);
      }
    }
    for (const key of required) {
      if (obj[key] === undefined || obj[key] === null) this.report(path, `missing required key "${key}"`);
    }
    return obj;
  }

  string(value: unknown, path: string, opts: { pattern?: RegExp; patternHint?: string; oneOf?: readonly string[] } = {}): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'number') {
      // Not String(value): YAML has already turned 1.10 into 1.1 and 1e3 into 1000. Only quotes keep the text.
      const written = positionOf(this.positions, path).source ?? String(value);
      const key = path.slice(Math.max(path.lastIndexOf('.'), path.lastIndexOf('[')) + 1).replace(/\]$/, '');
      const shown = /^\d+$/.test(key) ? `- "${written}"` : `${key}: "${written}"`;
      this.report(path, `${written} is a number to YAML (it reads ${value}), not the text you wrote; put it in quotes: ${shown}`);
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      this.report(path, `expected a non-empty string, got ${describe(value)}`);
      return undefined;
    }
    if (opts.oneOf && !opts.oneOf.includes(value)) {
      this.report(path, `"${value}" is not one of ${opts.oneOf.join(', ')}`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.report(path, `"${value}" is not ${opts.patternHint ?? `of the form ${opts.pattern}`}`);
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.report(path, `expected true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  array(value: unknown, path: string): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) {
      this.report(path, `expected a list, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  strings(value: unknown, path: string, opts: { pattern?: RegExp; patternHint?: string } = {}): string[] | undefined {
    const list = this.array(value, path);
    if (!list) return undefined;
    const out: string[] = [];
    list.forEach((v, i) => {
      const s = this.string(v, `${path}[${i}]`, opts);
      if (s !== undefined) out.push(s);
    });
    return out;
  }
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
