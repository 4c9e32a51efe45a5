/**
 * Dependency relation fields (Depends, Pre-Depends, Recommends, Provides, Breaks...): comma-separated groups of
 * `|` alternatives, each `name[:archqual] [(op version)] [[arch list]] [<profiles>]`. Pure.
 */
import type { RelOp } from './version.js';
import { satisfies } from './version.js';

export interface Relation {
  name: string;
  /** `any`, `native` or an architecture name. */
  archQual?: string;
  op?: RelOp;
  version?: string;
}

export type OrGroup = Relation[];

const OPS: Record<string, RelOp> = { '<<': '<<', '<=': '<=', '=': '=', '>=': '>=', '>>': '>>', '<': '<=', '>': '>=' };

const RELATION_RE = /^([a-z0-9][a-z0-9+.\-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^)\s]+)\s*\))?\s*(?:\[([^\]]*)\])?\s*(?:<[^>]*>\s*)*$/i;

export class RelationError extends Error {}

/**
 * Parse a relation field. `arch` drops alternatives whose `[arch list]` excludes it (only source packages carry
 * those, but the syntax is the same). Empty groups (everything excluded) disappear.
 */
export function parseRelations(field: string | undefined, arch?: string): OrGroup[] {
  if (!field) return [];
  const groups: OrGroup[] = [];
  for (const part of field.replace(/\s+/g, ' ').split(',')) {
    const text = part.trim();
    if (!text) continue;
    const group: OrGroup = [];
    for (const alt of text.split('|')) {
      const r = parseRelation(alt, arch);
      if (r) group.push(r);
    }
    if (group.length) groups.push(group);
  }
  return groups;
}

/** One relation; undefined when its arch restriction excludes `arch`. */
export function parseRelation(text: string, arch?: string): Relation | undefined {
  const m = RELATION_RE.exec(text.trim());
  if (!m) throw new RelationError(`cannot parse relation ${JSON.stringify(text.trim())}`);
  const [, name, archQual, op, version, archList] = m;
  if (archList !== undefined && arch !== undefined && !archListMatches(archList, arch)) return undefined;
  const r: Relation = { name: name!.toLowerCase() };
  if (archQual) r.archQual = archQual;
  if (op) {
    r.op = OPS[op]!;
    r.version = version!;
  }
  return r;
}

function archListMatches(list: string, arch: string): boolean {
  const items = list.trim().split(/\s+/).filter(Boolean);
  if (items.every((i) => i.startsWith('!'))) return !items.includes('!' + arch);
  return items.includes(arch) || items.includes('any');
}

/** Does a package at `version` (or a Provides entry, versioned or not) meet relation `r`'s version part? */
export function versionMatches(r: Relation, version: string | undefined): boolean {
  if (!r.op) return true;
  // An unversioned Provides never satisfies a versioned dependency (Debian policy 7.5).
  if (version === undefined) return false;
  return satisfies(version, r.op, r.version!);
}

export function formatRelation(r: Relation): string {
  const name = r.archQual ? `${r.name}:${r.archQual}` : r.name;
  return r.op ? `${name} (${r.op} ${r.version})` : name;
}

export function formatGroup(g: OrGroup): string {
  return g.map(formatRelation).join(' | ');
}
