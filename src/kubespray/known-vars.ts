import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadYamlLimited } from '../util/yaml.js';

/**
 * The variables a kubespray tree reads, with the type its defaults give each, taken from the tree itself (the one
 * in the bundle), never from a list kept here:
 * - every top-level key of `roles/<role>/defaults/**` (kubespray-defaults included) and of
 *   `inventory/sample/group_vars/**`, where a commented-out `# name: value` counts too (the sample documents them so);
 * - every variable the roles and playbooks read with `| default(` or test with `is defined`, of any type.
 */
export type VarType = 'any' | 'bool' | 'number' | 'string' | 'list' | 'dict';

export interface KnownVars {
  types: ReadonlyMap<string, VarType>;
}

export interface TreeFile {
  /** Path relative to the tree's root, `/`-separated. */
  path: string;
  text: string;
}

const NAME = '[a-z_][a-z0-9_]*';
const KEY = new RegExp(`^(${NAME})\\s*:`, 'gm');
const COMMENTED_KEY = new RegExp(`^#\\s?(${NAME}):(?:\\s|$)`, 'gm');
const READ = new RegExp(`\\b(${NAME})\\s*\\|\\s*default\\(|\\b(${NAME})\\s+is\\s+(?:not\\s+)?defined\\b`, 'g');

export function isDefaultsFile(path: string): boolean {
  return /^roles\/(?:.+\/)?defaults\/.+\.ya?ml$/.test(path) || /^inventory\/sample\/group_vars\/.+\.ya?ml$/.test(path);
}

function isReader(path: string): boolean {
  return /^(roles|playbooks)\/.+\.(ya?ml|j2)$/.test(path) || /^[^/]+\.ya?ml$/.test(path);
}

/** The type a default value gives its variable: a Jinja string or null says nothing. */
export function typeOfDefault(v: unknown): VarType {
  if (v === null || v === undefined) return 'any';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return v.includes('{{') || v.includes('{%') ? 'any' : 'string';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/** Pure: the known variables of a tree, from its files' text. */
export function knownVarsOf(files: readonly TreeFile[]): KnownVars {
  const types = new Map<string, VarType>();
  const add = (name: string, t: VarType) => {
    const had = types.get(name);
    // The same variable with two types in two roles: either may be right, so no type is enforced.
    types.set(name, had === undefined || had === t ? t : 'any');
  };
  for (const f of files) {
    if (isDefaultsFile(f.path)) {
      let doc: unknown;
      try {
        doc = loadYamlLimited(f.text, { filename: f.path });
      } catch {
        doc = undefined;
      }
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) {
        for (const [k, v] of Object.entries(doc as Record<string, unknown>)) add(k, typeOfDefault(v));
      } else {
        // A file js-yaml cannot read (a tag it does not know): its keys still count, untyped.
        for (const m of f.text.matchAll(KEY)) add(m[1]!, 'any');
      }
      if (f.path.startsWith('inventory/')) for (const m of f.text.matchAll(COMMENTED_KEY)) if (!types.has(m[1]!)) add(m[1]!, 'any');
    }
  }
  const read = new Set<string>();
  for (const f of files) if (isReader(f.path)) for (const m of f.text.matchAll(READ)) read.add((m[1] ?? m[2])!);
  for (const name of read) if (!types.has(name)) types.set(name, 'any');
  return { types };
}

/** Read a kubespray tree's defaults, group_vars, roles and playbooks (text files only) and find its variables. */
export async function readKnownVars(root: string): Promise<KnownVars> {
  const files: TreeFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (rel === '' && !['roles', 'playbooks', 'inventory'].includes(e.name)) continue;
        await walk(p);
      } else if (e.isFile() && (isDefaultsFile(p) || isReader(p))) {
        files.push({ path: p, text: await readFile(join(root, p), 'utf8') });
      }
    }
  };
  await walk('');
  return knownVarsOf(files);
}
