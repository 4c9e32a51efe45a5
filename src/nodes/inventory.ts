import { ValidationError, type Problem } from '../errors.js';
import { shlexSplit } from './shlex.js';
import { pyLiteral, type PyValue } from './py-literal.js';
import { expandHostPattern } from './host-pattern.js';
import { addChild, reconcile, record } from './inventory-groups.js';

export { groupHosts } from './inventory-groups.js';

/**
 * A pure parser of Ansible INI inventories that agrees with ansible-core 2.14's `ini` plugin and its variable
 * precedence (checked against `ansible-inventory --list` in the tests):
 * - `[group]` host lines are `shlex`-split (quotes removed, `#` starts a comment), `[group:vars]` lines are split on
 *   the first `=` only; either value then goes through Python's `literal_eval` (so `8080` is a number, `"x"` in a
 *   vars section loses its quotes, `{{ jinja }}` stays text).
 * - merged vars: `all` < groups by (depth, ansible_group_priority, name) < host vars, as Ansible sorts them.
 * - lines are Python's splitlines() of the text, stripped with Python's strip(); a UTF-8 byte order mark is refused
 *   (Ansible keeps it in the first line). Which variable a connection setting comes from is connection-vars.ts.
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

function parseValue(v: string): InventoryValue {
  const lit = pyLiteral(v);
  return lit === undefined ? v : lit;
}

// Python's str.splitlines() and str.strip(), which the ini plugin reads the file with: line numbers and what counts
// as blank follow them (a lone \r or \f ends a line; U+FEFF is not whitespace, unlike JavaScript's trim()).
const PY_LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
const pyStrip = (s: string): string => s.replace(PY_STRIP, '');

const BOM = '\ufeff';

/** The parser's state while it walks the file: what Ansible's ini plugin keeps between lines. */
interface ParseState {
  file: string;
  problems: Problem[];
  groups: Map<string, InventoryGroup>;
  hosts: Map<string, InventoryHost>;
  // Groups named before they are defined, as Ansible tracks them: a `:children` entry or a `:vars` section must
  // meet a real `[group]` or `[group:children]` header somewhere in the file.
  pending: Map<string, { line: number; state: 'vars' | 'children'; parents: string[] }>;
  group: string;
  section: 'hosts' | 'vars' | 'children' | 'skip';
}

/**
 * Parse `text`; every problem found is reported with its line (a ValidationError), not just the first. A message
 * never quotes a host or vars line (they hold passwords): it names the line and what is wrong with it.
 */
export function parseInventory(text: string, file = 'hosts.ini'): Inventory {
  const st: ParseState = { file, problems: [], groups: new Map(), hosts: new Map(), pending: new Map(), group: 'ungrouped', section: 'hosts' };
  addGroup(st, 'all', 0);
  addGroup(st, 'ungrouped', 0);
  addChild(st.groups, 'all', 'ungrouped');
  if (text.startsWith(BOM)) {
    // Ansible keeps the mark as part of the first line: `[all]` there is refused as a bad host range, and a host
    // line makes a host whose name starts with an invisible character. Either way the file is not what it looks like.
    fail(st, 1, 'the file starts with a UTF-8 byte order mark (BOM), which Ansible reads as part of the first line; save it as UTF-8 without a BOM');
    text = text.slice(BOM.length);
  }
  text.split(PY_LINE_BREAK).forEach((raw, idx) => {
    const n = idx + 1;
    const line = pyStrip(raw);
    if (!line || line[0] === '#' || line[0] === ';') return;
    if (sectionLine(st, line, n)) return;
    if (st.section === 'hosts') hostLine(st, line, n);
    else if (st.section === 'vars') varsLine(st, line, n);
    else if (st.section === 'children') childrenLine(st, line, n);
  });
  for (const [name, p] of st.pending) {
    if (p.state === 'vars') fail(st, p.line, `section [${name}:vars] is not valid for undefined group: ${name}`);
    else fail(st, p.line, `section [${p.parents.at(-1)}:children] includes undefined group: ${name}`);
  }
  if (st.problems.length) throw new ValidationError(file, st.problems.sort((a, b) => a.line - b.line));
  reconcile(st.groups, st.hosts);
  return { file, hosts: st.hosts, groups: st.groups };
}

function fail(st: ParseState, line: number, message: string): void {
  st.problems.push({ file: st.file, line, column: 1, path: '', message });
}

function addGroup(st: ParseState, name: string, line: number): InventoryGroup {
  let g = st.groups.get(name);
  if (!g) {
    g = { name, line, hosts: [], children: [], vars: record(), varLines: record(), depth: 0, priority: 1 };
    st.groups.set(name, g);
  }
  return g;
}

/** `[group]`, `[group:vars]`, `[group:children]`: switches the section; true when the line was a header. */
function sectionLine(st: ParseState, line: string, n: number): boolean {
  const sec = SECTION.exec(line);
  if (!sec) {
    if (!(line.startsWith('[') && line.endsWith(']'))) return false;
    fail(st, n, 'invalid section header: no spaces or other invalid characters are allowed in a section name');
    return true;
  }
  const name = sec[1]!;
  const type = sec[2] ?? 'hosts';
  if (type !== 'hosts' && type !== 'vars' && type !== 'children') {
    fail(st, n, `section [${name}:${type}] has unknown type: ${type}`);
    st.section = 'skip'; // its lines would only repeat the same problem
    return true;
  }
  st.group = name;
  st.section = type;
  if (!st.groups.has(name)) {
    if (type === 'vars' && !st.pending.has(name)) st.pending.set(name, { line: n, state: 'vars', parents: [] });
    addGroup(st, name, n);
  }
  const p = st.pending.get(name);
  if (p && type !== 'vars') {
    if (p.state === 'children') for (const parent of p.parents) addChild(st.groups, parent, name);
    st.pending.delete(name);
  }
  return true;
}

/** `name[:port] key=value …` in a hosts section: shlex-split, the pattern expanded, the values literal_eval'd. */
function hostLine(st: ParseState, line: string, n: number): void {
  let tokens: string[];
  try {
    tokens = shlexSplit(line);
  } catch (e) {
    fail(st, n, `cannot parse host definition: ${(e as Error).message}`);
    return;
  }
  if (tokens.length === 0) return;
  if (tokens[0]!.includes('=')) {
    fail(st, n, 'the line starts with key=value; a host line starts with the host name');
    return;
  }
  let expanded: { names: string[]; port?: number };
  try {
    expanded = expandHostPattern(tokens[0]!);
  } catch (e) {
    fail(st, n, (e as Error).message);
    return;
  }
  const vars: [string, InventoryValue][] = [];
  for (const [i, t] of tokens.slice(1).entries()) {
    const eq = t.indexOf('=');
    if (eq < 0) {
      fail(st, n, `word ${i + 2} is not a key=value host variable (a value with spaces or # needs quotes)`);
      return;
    }
    vars.push([t.slice(0, eq), parseValue(t.slice(eq + 1))]);
  }
  const g = st.groups.get(st.group)!;
  for (const name of expanded.names) {
    let h = st.hosts.get(name);
    if (!h) {
      h = { name, line: n, hostVars: record(), groups: [], groupLines: record(), vars: record() };
      st.hosts.set(name, h);
      // Like Ansible, a `host:port` sets ansible_port only where the host first appears.
      if (expanded.port !== undefined) h.hostVars['ansible_port'] = expanded.port;
    }
    if (!g.hosts.includes(name)) g.hosts.push(name);
    if (!h.groups.includes(st.group)) h.groups.push(st.group);
    if (!(st.group in h.groupLines)) h.groupLines[st.group] = n;
    for (const [k, v] of vars) h.hostVars[k] = v;
  }
}

/** `key = value` in a `[group:vars]` section: split on the first `=` only. */
function varsLine(st: ParseState, line: string, n: number): void {
  const eq = line.indexOf('=');
  if (eq < 0) {
    fail(st, n, `expected key=value in [${st.group}:vars]`);
    return;
  }
  const k = pyStrip(line.slice(0, eq));
  const v = parseValue(pyStrip(line.slice(eq + 1)));
  const g = st.groups.get(st.group)!;
  if (k === 'ansible_group_priority') g.priority = Number(v);
  else {
    g.vars[k] = v;
    g.varLines[k] = n;
  }
}

/** A group name in a `[group:children]` section; one not defined yet waits in `pending`. */
function childrenLine(st: ParseState, line: string, n: number): void {
  const m = GROUP_NAME.exec(line);
  if (!m || m[1]!.includes('=')) {
    fail(st, n, `expected a group name in [${st.group}:children]`);
    return;
  }
  const child = m[1]!;
  if (!st.groups.has(child)) {
    const p = st.pending.get(child);
    if (p) p.parents.push(st.group);
    else st.pending.set(child, { line: n, state: 'children', parents: [st.group] });
  } else if (!addChild(st.groups, st.group, child)) {
    fail(st, n, `adding group ${child} to ${st.group} creates a cycle`);
  }
}
