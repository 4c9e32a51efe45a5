/**
 * Which address, port, user, key and passwords a host's connection variables mean, with ansible-core 2.14 as the
 * oracle: for address, port, user and key, `ansible -m ping -vvv` shows what its ssh connection plugin runs (the
 * addresses are unused loopback ones, so each attempt is refused at once); for the login and sudo passwords, Ansible
 * and ks-bundle both log in to a sandbox node's sshd and run sudo there, where only the right password works.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/nodes/inventory.js';
import { nodeTarget, openSession } from '../../src/nodes/target.js';
import { createSandbox, type Sandbox } from '../testbed/sandbox.js';
import { isRoot, requireTools } from '../support/tools.js';

const run = promisify(execFile);
let dir: string;

function ansibleEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_CONFIG: join(dir, 'none.cfg'),
    ANSIBLE_SSH_RETRIES: '0',
    ANSIBLE_TIMEOUT: '5',
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(dir, 'cp'),
    ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
  };
}

/** The address, port, user and key Ansible's ssh plugin connects with, read from its own -vvv trace. */
async function ansibleConnectsTo(inventory: string, host: string): Promise<{ host: string; port: number; user: string; key?: string }> {
  const out = await run('ansible', ['-i', inventory, host, '-m', 'ping', '-vvv'], { env: ansibleEnv(), maxBuffer: 1 << 24 }).then(
    (r) => r.stdout,
    (e) => String(e.stdout),
  );
  const exec = /<([^>]+)> SSH: EXEC (.*)/.exec(out);
  if (!exec) throw new Error(`no ssh command in ansible's trace for ${host}:\n${out.slice(-2000)}`);
  const line = exec[2]!;
  return {
    host: exec[1]!,
    port: Number(/-o Port=(\d+)/.exec(line)![1]),
    user: /-o 'User="([^"]*)"'/.exec(line)![1]!,
    ...(/IdentityFile="([^"]*)"/.test(line) ? { key: /IdentityFile="([^"]*)"/.exec(line)![1] } : {}),
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ksb-inv-connect-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('address, port, user and key: ks-bundle connects where ansible-core does', () => {
  // 127.86.x.y: loopback addresses nothing listens on; ports 1-9: closed. Every attempt is refused at once.
  const INVENTORY = [
    '[all]',
    'both-host ansible_host=127.86.0.1 ansible_ssh_host=127.86.0.2 ansible_user=u1 ansible_port=1',
    'ssh-host-only ansible_ssh_host=127.86.0.3 ansible_user=u1 ansible_port=2',
    'both-port ansible_host=127.86.0.4 ansible_port=3 ansible_ssh_port=4 ansible_user=u1',
    'ssh-port-only ansible_host=127.86.0.5 ansible_ssh_port=5 ansible_user=u1',
    'both-user ansible_host=127.86.0.6 ansible_port=6 ansible_user=u1 ansible_ssh_user=u2',
    'ssh-user-only ansible_host=127.86.0.7 ansible_port=7 ansible_ssh_user=u3',
    'both-key ansible_host=127.86.0.8 ansible_port=8 ansible_user=u1 ansible_private_key_file=/k/one ansible_ssh_private_key_file=/k/two',
    'group-alias ansible_host=127.86.0.9 ansible_port=9 ansible_user=u1',
    'host-port:9 ansible_host=127.86.0.10 ansible_user=u1',
    'none-alias ansible_host=127.86.0.11 ansible_ssh_host=None ansible_port=1 ansible_user=u1',
    '[g]',
    'group-alias',
    '[g:vars]',
    // A group's ansible_ssh_host still beats the host's own ansible_host: the alias order decides, not the level.
    'ansible_ssh_host=127.86.0.12',
    '',
  ].join('\n');

  it('for every alias combination', async () => {
    requireTools('ansible', 'ssh');
    const file = join(dir, 'hosts.ini');
    writeFileSync(file, INVENTORY);
    const inv = parseInventory(INVENTORY, file);
    const names = [...inv.hosts.keys()];
    expect(names).toHaveLength(10);
    const theirs = await Promise.all(names.map((n) => ansibleConnectsTo(file, n)));
    for (const [i, name] of names.entries()) {
      const t = nodeTarget(inv.hosts.get(name)!);
      const ourView = { host: t.host, port: t.port, user: t.user, ...(t.privateKeyFile ? { key: t.privateKeyFile } : {}) };
      expect(ourView, name).toEqual(theirs[i]);
    }
    // What that means, spelled out for the cases the review found wrong.
    expect(theirs[0]!.host).toBe('127.86.0.2');
    expect(theirs[1]!.host).toBe('127.86.0.3');
    expect(theirs[7]!.host).toBe('127.86.0.12');
  }, 120_000);
});

describe('login and sudo passwords: ks-bundle uses the one ansible-core uses', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    expect(isRoot()).toBe(true);
    requireTools('ansible', 'sshpass', 'ssh-keygen', 'nsenter', 'unshare', 'debootstrap');
    sb = await createSandbox({ nodes: [{ name: 'node1', auth: 'password', password: 'login-right', becomePassword: 'sudo-right' }] });
  }, 180_000);
  afterAll(async () => {
    await sb?.teardown();
  });

  it('with two aliases set, only the one ansible-core picks logs in and passes sudo, for Ansible and for ks-bundle', async () => {
    const n = sb.node('node1');
    const base = `ansible_host=${n.ip} ansible_port=${n.port} ansible_user=${n.user} ansible_become=yes`;
    const text = [
      '[all]',
      `pass-over-password ${base} ansible_password=login-wrong ansible_ssh_pass=login-right ansible_become_pass=sudo-right`,
      `password-over-pass ${base} ansible_ssh_pass=login-wrong ansible_ssh_password=login-right ansible_become_pass=sudo-right`,
      `sudo-over-become ${base} ansible_password=login-right ansible_become_pass=sudo-wrong ansible_sudo_pass=sudo-right`,
      `pass-over-password-become ${base} ansible_password=login-right ansible_become_password=sudo-wrong ansible_become_pass=sudo-right`,
      '',
    ].join('\n');
    const file = join(dir, 'passwords.ini');
    writeFileSync(file, text);
    const r = await run('ansible', ['-i', file, 'all', '-m', 'command', '-a', 'id -u', '-f', '2'], { env: ansibleEnv() }).then(
      (x) => x.stdout,
      (e) => String(e.stdout) + String(e.stderr),
    );
    const inv = parseInventory(text, file);
    for (const name of inv.hosts.keys()) {
      expect(r, name).toMatch(new RegExp(`^${name} \\| CHANGED \\| rc=0 >>\\n0$`, 'm'));
      const t = nodeTarget(inv.hosts.get(name)!);
      const s = await openSession(t, { hostKeys: { knownHostsFile: join(dir, 'known_hosts'), acceptNew: true } });
      try {
        expect((await s.sudo('id -u')).stdout.trim(), name).toBe('0');
      } finally {
        await s.close();
      }
    }
  }, 180_000);
});
