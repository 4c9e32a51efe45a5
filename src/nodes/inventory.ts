import { ValidationError, type Problem } from '../errors.js';
import { shlexSplit } from './shlex.js';
import { pyLiteral, type PyValue } from './py-literal.js';
import { expandHostPattern } from './host-pattern.js';

/**
 * A pure parser of Ansible INI inventories that agrees with ansible-core 2.14's `ini` plugin and its variable
 * precedence (checked against `ansible-inventory --list` in the tests):
 * - `[group]` host lines are `shlex`-split (quotes removed, `#` starts a comment), `[group:vars]` lines are split on
 *   the first `=` only; either value then goes through Python's `literal_eval` (so `8080` is a number, `"x"` in a
 *   vars section loses its quotes, `{{ jinja }}` stays text).
 * - merged vars: `all` < groups by (depth, ansible_group_priority, name) < host vars, as Ansible sorts them.
 */
export type InventoryValue = PyValue;
export type Vars = Record<string, InventoryValue>;

export interface InventoryHost {
  name: string;
  /** The first line that names the host. */
  line: number;
  /** Variables set on the host lines themselves, in file order (a later line wins). */
  hostVars: Vars;
  /** Direct groups, in the order the host was put in them (`all` and `ungrouped` included when they apply). */
  groups: string[];
  /** Line of the host in each group section that lists it. */
  groupLines: Record<string, number>;
  /** Host vars merged over every group var that applies, as Ansible resolves them. */
  vars: Vars;
}

export interface InventoryGroup {
  name: string;
  /** The line of its first section header (0 for the implicit `all` and `ungrouped`). */
  line: number;
  hosts: string[];
  children: string[];
  vars: Vars;
  varLines: Record<string, number>;
  depth: number;
  priority: number;
}

export interface Inventory {
  file: string;
  hosts: Map<string, InventoryHost>;
  groups: Map<string, InventoryGroup>;
}

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function parseValue(v: string): InventoryValue {
  const lit = pyLiteral(v);
  return lit === undefined ? v : lit;
}

/** Parse `text`; every problem found is reported with its line (a ValidationError), not just the first. */
export function parseInventory(text: string, file = 'hosts.ini'): Inventory {
  const problems: Problem[] = [];
  const fail = (line: number, message: string): void => {
    problems.push({ file, line, column: 1, path: '', message });
  };
  const groups = new Map<string, InventoryGroup>();
  const hosts = new Map<string, InventoryHost>();
  const addGroup = (name: string, line: number): InventoryGroup => {
    let g = groups.get(name);
    if (!g) {
      g = { name, line, hosts: [], children: [], vars: record(), varLines: record(), depth: 0, priority: 1 };
      groups.set(name, g);
    }
    return g;
  };
  addGroup('all', 0);
  addGroup('ungrouped', 0);
  addChild(groups, 'all', 'ungrouped');

  // Groups named before they are defined, as Ansible tracks them: a `:children` entry or a `:vars` section must
  // meet a real `[group]` or `[group:children]` header somewhere in the file.
  const pending = new Map<string, { line: number; state: 'vars' | 'children'; parents: string[] }>();

  let group = 'ungrouped';
  let state: 'hosts' | 'vars' | 'children' | 'skip' = 'hosts';
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, idx) => {
    const n = idx + 1;
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') return;
    const sec = SECTION.exec(line);
    if (sec) {
      const name = sec[1]!;
      const st = sec[2] ?? 'hosts';
      if (st !== 'hosts' && st !== 'vars' && st !== 'children') {
        fail(n, `section [${name}:${st}] has unknown type: ${st}`);
        state = 'skip'; // its lines would only repeat the same problem
        return;
      }
      group = name;
      state = st;
      if (!groups.has(name)) {
        if (st === 'vars' && !pending.has(name)) pending.set(name, { line: n, state: 'vars', parents: [] });
        addGroup(name, n);
      }
      const p = pending.get(name);
      if (p && st !== 'vars') {
        if (p.state === 'children') for (const parent of p.parents) addChild(groups, parent, name);
        pending.delete(name);
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      fail(n, `invalid section entry '${line}': no spaces or other invalid characters are allowed in a section`);
      return;
    }
    if (state === 'skip') return;
    if (state === 'hosts') {
      let tokens: string[];
      try {
        tokens = shlexSplit(line);
      } catch (e) {
        fail(n, `cannot parse host definition: ${(e as Error).message}`);
        return;
      }
      if (tokens.length === 0) return;
      let expanded: { names: string[]; port?: number };
      try {
        expanded = expandHostPattern(tokens[0]!);
      } catch (e) {
        fail(n, (e as Error).message);
        return;
      }
      const vars: [string, InventoryValue][] = [];
      for (const t of tokens.slice(1)) {
        const eq = t.indexOf('=');
        if (eq < 0) {
          fail(n, `expected key=value host variable assignment, got: ${t}`);
          return;
        }
        vars.push([t.slice(0, eq), parseValue(t.slice(eq + 1))]);
      }
      const g = groups.get(group)!;
      for (const name of expanded.names) {
        let h = hosts.get(name);
        if (!h) {
          h = { name, line: n, hostVars: record(), groups: [], groupLines: record(), vars: record() };
          hosts.set(name, h);
          // Like Ansible, a `host:port` sets ansible_port only where the host first appears.
          if (expanded.port !== undefined) h.hostVars['ansible_port'] = expanded.port;
        }
        if (!g.hosts.includes(name)) g.hosts.push(name);
        if (!h.groups.includes(group)) h.groups.push(group);
        if (!(group in h.groupLines)) h.groupLines[group] = n;
        for (const [k, v] of vars) h.hostVars[k] = v;
      }
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) {
        fail(n, `expected key=value, got: ${line}`);
        return;
      }
      const k = line.slice(0, eq).trim();
      const v = parseValue(line.slice(eq + 1).trim());
      const g = groups.get(group)!;
      if (k === 'ansible_group_priority') g.priority = Number(v);
      else {
        g.vars[k] = v;
        g.varLines[k] = n;
      }
    } else {
      const m = GROUP_NAME.exec(line);
      if (!m) {
        fail(n, `expected group name, got: ${line}`);
        return;
      }
      const child = m[1]!;
      if (!groups.has(child)) {
        const p = pending.get(child);
        if (p) p.parents.push(group);
        else pending.set(child, { line: n, state: 'children', parents: [group] });
      } else if (!addChild(groups, group, child)) {
        fail(n, `adding group ${child} to ${group} creates a cycle`);
      }
    }
  });
  for (const [name, p] of pending) {
    if (p.state === 'vars') fail(p.line, `section [${name}:vars] is not valid for undefined group: ${name}`);
    else fail(p.line, `section [${p.parents.at(-1)}:children] includes undefined group: ${name}`);
  }
  if (problems.length) throw new ValidationError(file, problems.sort((a, b) => a.line - b.line));

  reconcile(groups, hosts);
  return { file, hosts, groups };
}

function addChild(groups: Map<string, InventoryGroup>, parent: string, child: string): boolean {
  const p = groups.get(parent)!;
  if (parent === child || ancestors(groups, parent).has(child)) return false;
  if (!p.children.includes(child)) p.children.push(child);
  return true;
}

function ancestors(groups: Map<string, InventoryGroup>, name: string): Set<string> {
  const out = new Set<string>();
  const walk = (n: string): void => {
    for (const g of groups.values()) {
      if (g.children.includes(n) && !out.has(g.name)) {
        out.add(g.name);
        walk(g.name);
      }
    }
  };
  walk(name);
  return out;
}

/** Ansible's reconcile: parentless groups join `all`, hosts only in `all` join `ungrouped`; then depths and vars. */
function reconcile(groups: Map<string, InventoryGroup>, hosts: Map<string, InventoryHost>): void {
  const all = groups.get('all')!;
  for (const g of groups.values()) {
    if (g.name !== 'all' && ancestors(groups, g.name).size === 0) addChild(groups, 'all', g.name);
  }
  const ungrouped = groups.get('ungrouped')!;
  for (const h of hosts.values()) {
    if (!h.groups.includes('all')) h.groups.unshift('all');
    // Hosts listed above any section were put in `ungrouped` by the parser; a real group takes them out of it.
    if (h.groups.some((g) => g !== 'all' && g !== 'ungrouped') && h.groups.includes('ungrouped')) {
      h.groups = h.groups.filter((g) => g !== 'ungrouped');
      ungrouped.hosts = ungrouped.hosts.filter((x) => x !== h.name);
    }
    if (!all.hosts.includes(h.name)) all.hosts.push(h.name);
    if (!h.groups.some((g) => g !== 'all')) {
      h.groups.push('ungrouped');
      ungrouped.hosts.push(h.name);
    }
  }
  // Depth is the longest path from `all`, as Ansible's add_child_group keeps max(depth, parent + 1).
  const setDepth = (name: string, depth: number): void => {
    const g = groups.get(name)!;
    if (depth < g.depth) return;
    g.depth = depth;
    for (const c of g.children) setDepth(c, depth + 1);
  };
  setDepth('all', 0);
  for (const h of hosts.values()) {
    const mine = new Set<string>();
    for (const g of h.groups) {
      mine.add(g);
      for (const a of ancestors(groups, g)) mine.add(a);
    }
    const ordered = [...mine]
      .map((n) => groups.get(n)!)
      .sort((a, b) => a.depth - b.depth || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const vars = record<InventoryValue>();
    for (const g of ordered) Object.assign(vars, g.vars);
    Object.assign(vars, h.hostVars);
    h.vars = vars;
  }
}

/** Every group a host belongs to, directly or through `:children`. */
export function hostGroups(inv: Inventory, host: string): Set<string> {
  const h = inv.hosts.get(host);
  const out = new Set<string>();
  if (!h) return out;
  for (const g of h.groups) {
    out.add(g);
    for (const a of ancestors(inv.groups, g)) out.add(a);
  }
  return out;
}

/** Hosts of a group, its children's included, in inventory order. */
export function groupHosts(inv: Inventory, group: string): string[] {
  const seen = new Set<string>();
  const walk = (name: string, path: Set<string>): void => {
    const g = inv.groups.get(name);
    if (!g || path.has(name)) return;
    for (const h of g.hosts) seen.add(h);
    for (const c of g.children) walk(c, new Set([...path, name]));
  };
  walk(group, new Set());
  return [...inv.hosts.keys()].filter((h) => seen.has(h));
}
