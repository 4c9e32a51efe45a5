import type { Problem } from '../errors.js';
import { groupHosts, type Inventory } from './inventory.js';
import { connectionVar } from './connection-vars.js';
import { nearestName } from '../text/nearest.js';

export type InstallMode = 'all-in-one' | 'multi-node';

/**
 * The seed's rules for `conf/hosts.ini`, checked before anything changes anywhere. Every problem names a line; a
 * missing section is reported at line 1. Returns all problems (empty when the inventory is fine).
 */
export function validateInventory(inv: Inventory, opts: { mode: InstallMode }): Problem[] {
  const problems: Problem[] = [];
  const add = (line: number, message: string, path = ''): void => {
    problems.push({ file: inv.file, line: Math.max(line, 1), column: 1, path, message });
  };

  for (const g of ['kube-master', 'etcd']) {
    if (!inv.groups.has(g) || inv.groups.get(g)!.line === 0) add(1, `no [${g}] section`, g);
    else if (groupHosts(inv, g).length === 0) add(inv.groups.get(g)!.line, `[${g}] has no hosts`, g);
  }
  const kubeNode = inv.groups.get('kube-node');
  if (kubeNode && kubeNode.line > 0 && groupHosts(inv, 'kube-node').length === 0) {
    add(kubeNode.line, '[kube-node] has no hosts', 'kube-node');
  }
  // etcd needs a majority to elect a leader: an even count tolerates no more failures than one fewer member.
  const etcd = inv.groups.get('etcd');
  const etcdCount = etcd ? groupHosts(inv, 'etcd').length : 0;
  if (etcd && etcdCount > 0 && etcdCount % 2 === 0) {
    add(etcd.line, `[etcd] has ${etcdCount} hosts; etcd needs an odd number of members`, 'etcd');
  }

  // The seed lists every host with its address in [all]; a host that only appears in a group is most likely a typo.
  const inAll = new Set<string>();
  for (const h of inv.hosts.values()) {
    if ('all' in h.groupLines || 'ungrouped' in h.groupLines) inAll.add(h.name);
  }
  for (const h of inv.hosts.values()) {
    if (inAll.has(h.name)) continue;
    const [group, line] = Object.entries(h.groupLines)[0] ?? ['?', h.line];
    const near = nearestName(h.name, [...inAll]);
    add(line, `host ${h.name} in [${group}] is not defined in [all] with an address${near ? ` (did you mean ${near}?)` : ''}`, h.name);
  }
  for (const h of inv.hosts.values()) {
    if (!inAll.has(h.name) || h.vars['ansible_connection'] === 'local') continue;
    if (connectionVar(h.vars, 'host') === undefined && h.vars['ip'] === undefined) {
      add(h.groupLines['all'] ?? h.line, `host ${h.name} has no ansible_host or ip`, h.name);
    }
  }
  const seen = new Map<string, string>();
  for (const h of inv.hosts.values()) {
    if (h.vars['ansible_connection'] === 'local') continue;
    const addr = `${String(connectionVar(h.vars, 'host')?.value ?? h.vars['ip'] ?? h.name)}:${String(connectionVar(h.vars, 'port')?.value ?? 22)}`;
    const other = seen.get(addr);
    if (other) add(h.line, `host ${h.name} has the same address ${addr} as ${other}`, h.name);
    else seen.set(addr, h.name);
  }
  const locals = [...inv.hosts.values()].filter((h) => h.vars['ansible_connection'] === 'local');
  if (locals.length > 1) {
    add(locals[1]!.line, `more than one host has ansible_connection=local: ${locals.map((h) => h.name).join(', ')}`);
  }
  if (opts.mode === 'multi-node' && inv.hosts.size < 2) {
    add(1, `multi-node mode needs at least 2 hosts, the inventory has ${inv.hosts.size}`);
  }
  return problems.sort((a, b) => a.line - b.line);
}

