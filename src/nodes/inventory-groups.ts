/**
 * The group graph of a parsed inventory, as ansible-core's InventoryData keeps it: children without cycles, the
 * reconcile step (parentless groups under `all`, hosts in no group in `ungrouped`), depths, and every host's vars
 * merged in Ansible's order.
 */
import type { Inventory, InventoryGroup, InventoryHost, InventoryValue } from './inventory.js';

/** A plain map without a prototype, so a variable named `__proto__` or `constructor` is just a variable. */
export function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function addChild(groups: Map<string, InventoryGroup>, parent: string, child: string): boolean {
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
export function reconcile(groups: Map<string, InventoryGroup>, hosts: Map<string, InventoryHost>): void {
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
