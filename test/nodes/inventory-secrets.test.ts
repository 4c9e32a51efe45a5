/**
 * What an inventory error may say, and a byte order mark, with the real ansible-inventory (ansible-core 2.14) as the
 * oracle for which lines are wrong: Ansible's own messages quote the line, passwords included; ours name the line
 * and what is wrong with it, and never a byte of a value. Exit code 2 (bad input).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { parseInventory } from '../../src/nodes/inventory.js';
import { requireTools } from '../support/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'ksb-inv-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ansibleInventory(text: string | Buffer): { ok: boolean; stdout: string; stderr: string } {
  const file = join(dir, `inv-${Math.random().toString(36).slice(2)}.ini`);
  writeFileSync(file, text);
  const r = spawnSync('ansible-inventory', ['-i', file, '--list'], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_INVENTORY_ENABLED: 'ini', ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true', ANSIBLE_NOCOLOR: '1', ANSIBLE_CONFIG: join(dir, 'none.cfg') },
  });
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.replace(/\n/g, ' ') };
}

function ours(text: string): ValidationError {
  try {
    parseInventory(text, 'hosts.ini');
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('parsed without a problem');
}

describe('an inventory error never shows a secret from the line', () => {
  requireTools('ansible-inventory');
  // Each bad line carries the secret "Hunter2-Zebra-Quartz", split by a space or cut by a quote the way people get it wrong.
  const cases: Array<[string, string, number]> = [
    ['password with a space, unquoted', '[all]\nnode1 ansible_host=10.0.0.1 ansible_password=Hunter2 -Zebra-Quartz\n', 2],
    ['become password with an unclosed quote', '[all]\nnode1 ansible_host=10.0.0.1\nnode2 ansible_become_pass="Hunter2-Zebra-Quartz\n', 3],
    ['vars line without =', '[all]\nnode1\n[all:vars]\nansible_ssh_pass Hunter2-Zebra-Quartz\n', 4],
    ['a host line that is only key=value', '[all]\nansible_password=Hunter2-Zebra-Quartz\n[k:children]\nall\n', 2],
    ['a key=value line under :children', '[all]\nnode1\n[all:children]\nansible_become_pass=Hunter2-Zebra-Quartz\n', 4],
  ];
  for (const [what, text, line] of cases) {
    it(what, () => {
      const err = ours(text);
      expect(err.exitCode).toBe(2);
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.problems.map((p) => p.line)).toEqual([line]);
      for (const fragment of ['Hunter2', 'Zebra', 'Quartz']) expect(err.message).not.toContain(fragment);
      expect(err.message).toContain(`hosts.ini:${line}`);
      // Ansible: refuses the same line (where it refuses at all), quoting it.
      const theirs = ansibleInventory(text);
      if (!theirs.ok) {
        const m = /\.ini:(\d+):/.exec(theirs.stderr);
        if (m) expect(Number(m[1])).toBe(line);
      }
    });
  }

  it("Ansible's own message for the first case shows the secret (why ours must not copy it)", () => {
    const theirs = ansibleInventory(cases[0]![1]);
    expect(theirs.ok).toBe(false);
    expect(theirs.stderr).toContain('-Zebra-Quartz');
  });
});

describe('a UTF-8 byte order mark', () => {
  it('before a section header: Ansible refuses the file, and so do we, naming line 1', () => {
    const text = '\ufeff[all]\nnode1 ansible_host=10.0.0.1\n[kube-master]\nnode1\n';
    expect(ansibleInventory(Buffer.from(text)).ok).toBe(false);
    const err = ours(text);
    expect(err.problems.map((p) => [p.line, p.message])).toEqual([[1, expect.stringContaining('byte order mark')]]);
    expect(err.exitCode).toBe(2);
  });

  it('before a host line: Ansible makes a host whose name starts with U+FEFF; we refuse instead of connecting to it', () => {
    const text = '\ufeffnode1 ansible_host=10.0.0.1\n[kube-master]\nnode1\n';
    const theirs = ansibleInventory(Buffer.from(text));
    expect(theirs.ok).toBe(true);
    const hosts = Object.keys(JSON.parse(theirs.stdout)._meta.hostvars);
    expect(hosts).toEqual(['\ufeffnode1']);
    expect(ours(text).problems.map((p) => p.line)).toEqual([1]);
  });

  it('anywhere else is an ordinary character, as in Ansible (a value may hold one)', () => {
    const inv = parseInventory('[all]\nnode1 ansible_host=10.0.0.1 note=\ufeffx\n', 'hosts.ini');
    expect(inv.hosts.get('node1')!.vars['note']).toBe('\ufeffx');
  });
});
