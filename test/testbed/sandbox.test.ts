import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createSandbox, cleanupStaleSandboxes, type Sandbox } from './sandbox.js';
import { run } from './run.js';
import { alive, netnsList } from './sys.js';
import { requireTools, isRoot } from '../support/tools.js';
import { parseInventory } from '../../src/nodes/inventory.js';
import { validateInventory } from '../../src/nodes/validate-inventory.js';

/** The testbed itself, proven with the real OpenSSH client and sshpass from the host. */
describe('sandbox testbed', () => {
  let sb: Sandbox;
  let knownHosts: string;

  beforeAll(async () => {
    expect(isRoot(), 'the sandbox needs root').toBe(true);
    requireTools('debootstrap', 'ssh', 'sshpass', 'ssh-keygen', 'unshare', 'nsenter', 'ip');
    sb = await createSandbox({
      nodes: [
        { name: 'node1', auth: 'key' },
        { name: 'node2', auth: 'password', password: 'login-two', becomePassword: 'become-two' },
        { name: 'node3', auth: 'password', password: 'login-three', becomePassword: 'login-three' },
      ],
    });
    knownHosts = join(sb.dir, 'known_hosts');
    writeFileSync(knownHosts, sb.knownHosts());
  });
  afterAll(async () => {
    await sb?.teardown();
  });

  const sshArgs = (node: string, extra: string[]) => {
    const n = sb.node(node);
    return [
      '-F', '/dev/null', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=10',
      '-p', String(n.port), ...extra, `${n.user}@${n.ip}`,
    ];
  };
  const sshKey = (node: string, cmd: string, input?: string) =>
    run('ssh', [...sshArgs(node, ['-o', 'BatchMode=yes', '-i', sb.node(node).keyPath]), cmd], { input, allowFail: true });
  const sshPass = (node: string, password: string, cmd: string, input?: string) =>
    run('sshpass', ['-e', 'ssh', ...sshArgs(node, ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password']), cmd], {
      input, allowFail: true, env: { ...process.env, SSHPASS: password },
    });

  it('three nodes in one /24, each with its own hostname and host keys', async () => {
    expect(sb.nodes.size).toBe(3);
    const fps = new Set([...sb.nodes.values()].map((n) => n.hostKeys['ed25519']!.fingerprint));
    expect(fps.size).toBe(3);
    for (const n of sb.nodes.values()) {
      expect(n.ip.startsWith(sb.subnet.replace(/0\/24$/, ''))).toBe(true);
      expect((await sb.exec(n.name, 'hostname')).stdout.trim()).toBe(n.name);
      expect(readFileSync(join(sb.rootOf(n.name), 'etc/os-release'), 'utf8')).toContain('bookworm');
    }
  });

  it('ssh with a key from the host; password auth is refused on a key node', async () => {
    const r = await sshKey('node1', 'hostname; id -un');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('node1\nubuntu\n');
    const p = await sshPass('node1', sb.node('node1').password, 'true');
    expect(p.code).not.toBe(0);
  });

  it('ssh with a password from the host; a wrong password is refused', async () => {
    const r = await sshPass('node2', 'login-two', 'hostname');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('node2\n');
    expect((await sshPass('node2', 'wrong', 'true')).code).not.toBe(0);
  });

  it('sudo -S works with the become password and not with another', async () => {
    const ok = await sshPass('node2', 'login-two', "sudo -S -p '' id -u", 'become-two\n');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe('0');
    // node2's become password is not its login password (sudo asks for root's).
    const bad = await sshPass('node2', 'login-two', "sudo -S -p '' id -u", 'login-two\n');
    expect(bad.code).not.toBe(0);
    const same = await sshPass('node3', 'login-three', "sudo -S -p '' id -u", 'login-three\n');
    expect(same.stdout.trim()).toBe('0');
    const nopasswd = await sshKey('node1', 'sudo -n id -u');
    expect(nopasswd.stdout.trim()).toBe('0');
  });

  it('nodes reach each other but nothing outside the subnet', async () => {
    const py = (addr: string) =>
      `python3 -c "import socket; s=socket.socket(); s.settimeout(5); s.connect(('${addr}', 22)); print('connected')"`;
    const inside = await sb.exec('node1', py(sb.node('node2').ip), { allowFail: true });
    expect(inside.stdout.trim(), inside.stderr).toBe('connected');
    for (const addr of ['1.1.1.1', '192.0.2.1', '10.213.255.1']) {
      const out = await sb.exec('node2', py(addr), { allowFail: true });
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain('Network is unreachable');
    }
  });

  it('the real Ansible runs on every node through the sandbox inventory, with become', async () => {
    requireTools('ansible', 'sshpass');
    const inv = join(sb.dir, 'hosts.ini');
    writeFileSync(inv, sb.inventoryIni({ extra: `[all:vars]\nansible_ssh_common_args='-F /dev/null -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes'\nansible_python_interpreter=/usr/bin/python3\n` }));
    const r = await run('ansible', ['all', '-i', inv, '-b', '-m', 'command', '-a', 'id -u', '-o'], {
      allowFail: true,
      env: { ...process.env, ANSIBLE_CONFIG: join(sb.dir, 'none.cfg'), ANSIBLE_NOCOLOR: '1' },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(validateInventory(parseInventory(readFileSync(inv, 'utf8'), inv), { mode: 'multi-node' })).toEqual([]);
    for (const n of ['node1', 'node2', 'node3']) expect(r.stdout).toMatch(new RegExp(`^${n} \\| CHANGED \\| rc=0 \\| \\(stdout\\) 0$`, 'm'));
  });

  it('a stopped sshd refuses connections and starts again', async () => {
    sb.stopSshd('node3');
    const r = await sshPass('node3', 'login-three', 'true');
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Connection refused/);
    await sb.startSshd('node3');
    expect((await sshPass('node3', 'login-three', 'hostname')).stdout).toBe('node3\n');
  });

  it('teardown leaves no namespace, mount, process, route or directory', async () => {
    const pids = sb.pids();
    expect(pids.length).toBe(6);
    const { dir, subnet } = sb;
    const nss = [...sb.nodes.values()].map((n) => n.netns);
    await sb.teardown();
    for (const p of pids) expect(alive(p)).toBe(false);
    const left = netnsList();
    for (const ns of nss) expect(left).not.toContain(ns);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
    expect((await run('ip', ['route', 'show', subnet])).stdout).toBe('');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('sandbox options and signals', () => {
  it('defaultRoute: nodes get a default route, and going out still fails at once', async () => {
    const sb = await createSandbox({ nodes: [{ name: 'gw1', auth: 'key' }], defaultRoute: true });
    try {
      const route = await sb.exec('gw1', 'ip route get 1.1.1.1');
      expect(route.stdout).toContain(`via ${sb.subnet.replace(/0\/24$/, '1')}`);
      const out = await sb.exec('gw1', `python3 -c "import socket; s=socket.socket(); s.settimeout(30); s.connect(('1.1.1.1', 80))"`, { allowFail: true });
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain('No route to host');
    } finally {
      await sb.teardown();
    }
  });

  const script = fileURLToPath(new URL('./fixtures/sandbox-child.ts', import.meta.url));
  type Made = { dir: string; subnet: string; pids: number[]; netns: string[] };
  /** A child process that makes a sandbox and waits; resolves with what it made. */
  const startChild = async () => {
    const child = spawn('node', ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    const made = await new Promise<Made>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line) as Made);
      });
      child.on('exit', () => reject(new Error(`child exited early: ${err}`)));
    });
    return { child, made };
  };
  const expectGone = async (made: Made) => {
    for (const p of made.pids) expect(alive(p)).toBe(false);
    for (const ns of made.netns) expect(netnsList()).not.toContain(ns);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(made.dir);
    expect((await run('ip', ['route', 'show', made.subnet])).stdout).toBe('');
    expect(existsSync(made.dir)).toBe(false);
  };

  it('a SIGTERM to the process that made a sandbox tears it down', async () => {
    const { child, made } = await startChild();
    expect(made.pids.length).toBe(4);
    expect(netnsList()).toEqual(expect.arrayContaining(made.netns));
    const exited = new Promise<string | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    await expectGone(made);
  });

  it('a SIGKILLed run leaves its sandbox behind; the next run cleans it up', async () => {
    const { child, made } = await startChild();
    const exited = new Promise<string | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(netnsList()).toEqual(expect.arrayContaining(made.netns));
    expect(cleanupStaleSandboxes()).toContain(made.dir);
    await expectGone(made);
  });
});
