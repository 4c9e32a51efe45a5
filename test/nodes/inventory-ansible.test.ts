import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { parseInventory, type Inventory } from '../../src/nodes/inventory.js';
import { ValidationError } from '../../src/errors.js';
import { requireTools } from '../support/tools.js';

/**
 * The parser must agree with Ansible's own: every inventory under inventories/ is given to the real
 * `ansible-inventory --list` (ansible-core 2.14) and to ours, and the two views must be equal: the merged vars of
 * every host, the hosts of every group in order, the children of every group.
 */
const dir = join(dirname(fileURLToPath(import.meta.url)), 'inventories');

function ansible(file: string): { json?: unknown; stderr: string; ok: boolean } {
  const r = spawnSync('ansible-inventory', ['-i', file, '--list'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      ANSIBLE_INVENTORY_ENABLED: 'ini',
      ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true',
      ANSIBLE_NOCOLOR: '1',
      // No ansible.cfg of the machine or the cwd may change the answer.
      ANSIBLE_CONFIG: join(dir, 'no-such-ansible.cfg'),
    },
  });
  if (r.status !== 0) return { stderr: r.stderr, ok: false };
  return { json: JSON.parse(r.stdout), stderr: r.stderr, ok: true };
}

/** Our inventory in the shape of `ansible-inventory --list`. */
function listView(inv: Inventory): unknown {
  const hostvars: Record<string, unknown> = {};
  for (const h of inv.hosts.values()) if (Object.keys(h.vars).length) hostvars[h.name] = { ...h.vars };
  const out: Record<string, unknown> = { _meta: { hostvars } };
  const seen = new Set<string>();
  const format = (name: string): void => {
    const g = inv.groups.get(name)!;
    const entry: Record<string, unknown> = {};
    if (name !== 'all' && g.hosts.length) entry['hosts'] = [...g.hosts];
    if (g.children.length) entry['children'] = [...g.children];
    if (Object.keys(entry).length) out[name] = entry;
    for (const c of g.children) {
      if (!seen.has(c)) {
        seen.add(c);
        format(c);
      }
    }
  };
  format('all');
  return out;
}

describe('inventory parser agrees with ansible-inventory --list', () => {
  requireTools('ansible-inventory');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ini')).sort();
  it('has a dozen inventories', () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
  });
  for (const f of files) {
    it(f, () => {
      const path = join(dir, f);
      const theirs = ansible(path);
      expect(theirs.ok, theirs.stderr).toBe(true);
      const ours = listView(parseInventory(readFileSync(path, 'utf8'), path));
      expect(ours).toEqual(theirs.json);
    });
  }
});

describe('inventory errors agree with ansible-inventory, with the line', () => {
  const bad = join(dir, 'bad');
  for (const f of readdirSync(bad).filter((x) => x.endsWith('.ini')).sort()) {
    it(f, () => {
      const path = join(bad, f);
      const theirs = ansible(path);
      expect(theirs.ok).toBe(false);
      const text = theirs.stderr.replace(/\n/g, '');
      expect(text).toContain('Failed to parse');
      let err: unknown;
      try {
        parseInventory(readFileSync(path, 'utf8'), path);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValidationError);
      const ourLine = (err as ValidationError).problems[0]!.line;
      const m = /\.ini:(\d+):/.exec(text);
      // Ansible names the line for all but a bad host pattern; ours always does.
      if (m) expect(ourLine).toBe(Number(m[1]));
      else expect(ourLine).toBeGreaterThan(0);
    });
  }
});
