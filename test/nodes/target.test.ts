import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { parseInventory } from '../../src/nodes/inventory.js';
import { nodeTarget } from '../../src/nodes/target.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'inventories');

describe('nodeTarget from Ansible connection variables', () => {
  it('the seed-style inventory', () => {
    const inv = parseInventory(readFileSync(join(dir, '12-seed-become.ini'), 'utf8'));
    const [n1, n2, n3] = ['node1', 'node2', 'node3'].map((n) => nodeTarget(inv.hosts.get(n)!));
    expect(n1).toMatchObject({ name: 'node1', local: true, ip: '10.213.0.11', becomePassword: 'p@ss word', become: false });
    expect(n2).toMatchObject({
      local: false, host: '10.213.0.12', port: 22, user: 'ubuntu', password: 's3cr#t', become: true, becomeUser: 'root', becomePassword: 'b3come;x',
    });
    expect(n3).toMatchObject({ host: '10.213.0.13', become: true, privateKeyFile: `${homedir()}/.ssh/id_ed25519` });
    expect(n3!.password).toBeUndefined();
  });
});
