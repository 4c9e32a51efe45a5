import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInventory } from '../../src/nodes/inventory.js';
import { validateInventory } from '../../src/nodes/validate-inventory.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'inventories');
const check = (text: string, mode: 'all-in-one' | 'multi-node' = 'multi-node') =>
  validateInventory(parseInventory(text, 'hosts.ini'), { mode });

describe('validateInventory', () => {
  it('accepts the seed inventories', () => {
    expect(validateInventory(parseInventory(readFileSync(join(dir, '01-seed-multi.ini'), 'utf8')), { mode: 'multi-node' })).toEqual([]);
    expect(validateInventory(parseInventory(readFileSync(join(dir, '02-seed-allinone.ini'), 'utf8')), { mode: 'all-in-one' })).toEqual([]);
  });

  it('a missing [kube-master] and [etcd]', () => {
    const p = check('[all]\nn1 ansible_host=10.0.0.1\nn2 ansible_host=10.0.0.2\n[kube-node]\nn1\n');
    expect(p.map((x) => x.message)).toEqual(['no [kube-master] section', 'no [etcd] section']);
    expect(p.every((x) => x.line === 1)).toBe(true);
  });

  it('a host named in a group but not in [all] names its line and a likely spelling', () => {
    const text = '[all]\nnode1 ansible_host=10.0.0.1\nnode2 ansible_host=10.0.0.2\n[kube-master]\nnode1\n[etcd]\nnode1\n[kube-node]\nnode2\nnod3\n';
    const p = check(text);
    expect(p).toHaveLength(1);
    expect(p[0]!.line).toBe(10);
    expect(p[0]!.message).toContain('nod3');
    expect(p[0]!.message).toContain('[kube-node]');
    expect(p[0]!.message).toContain('did you mean node1');
  });

  it('two masters missing from [etcd]: an empty [etcd] and an even one', () => {
    const empty = check('[all]\nm1 ip=10.0.0.1\nm2 ip=10.0.0.2\n[kube-master]\nm1\nm2\n[etcd]\n[kube-node]\nm2\n');
    expect(empty.map((x) => [x.line, x.message])).toEqual([[7, '[etcd] has no hosts']]);
    const even = check('[all]\nm1 ip=10.0.0.1\nm2 ip=10.0.0.2\n[kube-master]\nm1\nm2\n[etcd]\nm1\nm2\n');
    expect(even[0]!.line).toBe(7);
    expect(even[0]!.message).toContain('odd');
  });

  it('multi-node needs 2 hosts; all-in-one does not', () => {
    const one = '[all]\nn1 ansible_connection=local ip=10.0.0.1\n[kube-master]\nn1\n[etcd]\nn1\n[kube-node]\nn1\n';
    expect(check(one, 'multi-node').map((x) => x.message)).toEqual(['multi-node mode needs at least 2 hosts, the inventory has 1']);
    expect(check(one, 'all-in-one')).toEqual([]);
  });

  it('a duplicated address and a host with no address', () => {
    const p = check('[all]\nn1 ansible_host=10.0.0.1\nn2 ansible_host=10.0.0.1\nn3\n[kube-master]\nn1\n[etcd]\nn1\n');
    expect(p.map((x) => [x.line, x.path])).toEqual([[3, 'n2'], [4, 'n3']]);
  });
});
