import { describe, it, expect } from 'vitest';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { HOSTS_INI_TEMPLATE } from '../../src/nodes/templates.js';
import { parseInventory } from '../../src/nodes/inventory.js';
import { validateInventory } from '../../src/nodes/validate-inventory.js';
import { requireTools } from '../support/tools.js';

describe('hosts.ini template', () => {
  it('is valid for multi-node and agrees with ansible-inventory', () => {
    requireTools('ansible-inventory');
    const inv = parseInventory(HOSTS_INI_TEMPLATE, 'hosts.ini');
    expect(validateInventory(inv, { mode: 'multi-node' })).toEqual([]);
    expect([...inv.groups.keys()]).toEqual(expect.arrayContaining(['all', 'kube-master', 'kube-node', 'etcd', 'k8s-cluster']));
    const dir = mkdtempSync(join(tmpdir(), 'ksb-tpl-'));
    try {
      writeFileSync(join(dir, 'hosts.ini'), HOSTS_INI_TEMPLATE);
      const r = spawnSync('ansible-inventory', ['-i', join(dir, 'hosts.ini'), '--list'], {
        encoding: 'utf8', env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: 'ini', ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true' },
      });
      expect(r.status, r.stderr).toBe(0);
      const theirs = JSON.parse(r.stdout) as { _meta: { hostvars: Record<string, unknown> } };
      for (const h of inv.hosts.values()) expect(h.vars).toEqual(theirs._meta.hostvars[h.name]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
