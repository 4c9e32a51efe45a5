import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSandbox, type Sandbox } from '../testbed/sandbox.js';
import { run } from '../testbed/run.js';
import { connectSsh, type SshTarget } from '../../src/nodes/ssh.js';
import { LocalSession } from '../../src/nodes/local.js';
import { NodeError } from '../../src/nodes/node-error.js';
import { requireTools, isRoot } from '../support/tools.js';
import type { NodeSession } from '../../src/nodes/session.js';

/** The ssh2 client against the real sshd of the sandbox nodes; secrets must never show in an error. */
describe('ssh sessions against real sshd', () => {
  let sb: Sandbox;
  let dir: string;
  const secrets = ['login-two', 'root-two', 'login-three', 'key-secret-4'];
  const errors: unknown[] = [];
  const open: NodeSession[] = [];

  beforeAll(async () => {
    expect(isRoot()).toBe(true);
    requireTools('ssh', 'ssh-keygen', 'ssh-agent', 'ssh-add', 'nsenter', 'unshare', 'debootstrap');
    sb = await createSandbox({
      nodes: [
        { name: 'node1', auth: 'key' },
        { name: 'node2', auth: 'password', password: 'login-two', becomePassword: 'root-two' },
        { name: 'node3', auth: 'password', password: 'login-three', becomePassword: 'login-three' },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'ksb-ssh-test-'));
  });
  afterAll(async () => {
    for (const s of open) await s.close();
    await sb?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
    // Every error any test caught, rendered every way a CLI could show it, is free of the passwords.
    for (const e of errors) {
      const text = [String(e), (e as Error).stack, (e as NodeError).hint, JSON.stringify(e)].join('\n');
      for (const s of secrets) expect(text).not.toContain(s);
    }
  });

  const target = (name: string, over: Partial<SshTarget> = {}): SshTarget => {
    const n = sb.node(name);
    const t: SshTarget = { name, host: n.ip, port: n.port, user: n.user, becomeUser: 'root' };
    if (n.auth === 'key') t.privateKeyFile = n.keyPath;
    else t.password = n.password;
    if (n.becomePassword) t.becomePassword = n.becomePassword;
    return { ...t, ...over };
  };
  const kh = (name: string) => join(dir, `${name}.known_hosts`);
  const connect = async (name: string, over: Partial<SshTarget> = {}, acceptNew = true, file = kh('shared')) => {
    const s = await connectSsh(target(name, over), { hostKeys: { knownHostsFile: file, acceptNew } });
    open.push(s);
    return s;
  };
  const failure = async (p: Promise<unknown>): Promise<NodeError> => {
    try {
      await p;
    } catch (e) {
      errors.push(e);
      expect(e).toBeInstanceOf(NodeError);
      return e as NodeError;
    }
    throw new Error('expected a failure');
  };

  it('an unknown host key is refused with its SHA256 fingerprint, then accepted with acceptNew', async () => {
    const e = await failure(connect('node1', {}, false, kh('node1')));
    expect(e.node).toBe('node1');
    expect(e.message).toContain('not known');
    // The fingerprint as ssh-keygen prints it for the node's own key file.
    const fp = sb.node('node1').hostKeys['ed25519']!.fingerprint;
    expect(e.message).toContain(fp);
    expect(existsSync(kh('node1'))).toBe(false);

    const s = await connect('node1', {}, true, kh('node1'));
    expect((await s.exec('hostname')).stdout).toBe('node1\n');
    // The line we appended is one the real ssh client accepts with strict checking.
    const r = await run('ssh', [
      '-F', '/dev/null', '-o', `UserKnownHostsFile=${kh('node1')}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
      '-i', sb.node('node1').keyPath, `ubuntu@${sb.node('node1').ip}`, 'true',
    ], { allowFail: true });
    expect(r.code, r.stderr).toBe(0);
    // And now it is known without acceptNew; the file did not grow.
    const before = readFileSync(kh('node1'), 'utf8');
    await connect('node1', {}, false, kh('node1'));
    expect(readFileSync(kh('node1'), 'utf8')).toBe(before);
  });

  it('hashed known_hosts entries (ssh-keygen -H) and the [host]:port form match', async () => {
    const file = kh('hashed');
    writeFileSync(file, sb.knownHosts());
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    await connect('node2', {}, false, file);
    const ported = kh('ported');
    const n = sb.node('node3');
    writeFileSync(ported, `[${n.ip}]:2222 ${n.hostKeys['ed25519']!.publicKey}\n`);
    // The key is listed for port 2222 only: on port 22 the host is unknown.
    expect((await failure(connect('node3', {}, false, ported))).message).toContain('not known');
  });

  it('a changed host key is an error even with acceptNew', async () => {
    const file = kh('changed');
    // node2's address listed with node3's keys: what a reinstalled or impersonated node looks like.
    writeFileSync(file, Object.values(sb.node('node3').hostKeys).map((k) => `${sb.node('node2').ip} ${k.publicKey}`).join('\n') + '\n');
    const e = await failure(connect('node2', {}, true, file));
    expect(e.message).toContain('CHANGED');
    expect(e.message).toContain(`${file}:`);
  });

  it('key auth and password auth; a wrong password says so without the password', async () => {
    const s1 = await connect('node1');
    expect((await s1.exec('id -un')).stdout).toBe('ubuntu\n');
    const s2 = await connect('node2');
    const r = await s2.exec('echo out; echo err >&2; exit 7', { allowFail: true });
    expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', code: 7 });
    const e = await failure(connect('node2', { password: 'login-three' }));
    expect(e.message).toContain('authentication failed');
    expect(e.message).toContain('node2');
  });

  it('an encrypted key: without an agent a clear error naming the key; unlocked in a real ssh-agent, a session', async () => {
    const enc = join(dir, 'encrypted_key');
    writeFileSync(enc, readFileSync(sb.node('node1').keyPath!), { mode: 0o600 });
    execFileSync('ssh-keygen', ['-p', '-q', '-f', enc, '-P', '', '-N', 'key-secret-4']);
    const saved = process.env.SSH_AUTH_SOCK;
    const sock = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      delete process.env.SSH_AUTH_SOCK;
      const e = await failure(connect('node1', { privateKeyFile: enc }));
      expect(e.message).toContain(`${enc} is encrypted, and no ssh-agent is running`);
      expect(e.hint).toContain(`ssh-add ${enc}`);

      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      const askpass = join(dir, 'askpass');
      writeFileSync(askpass, '#!/bin/sh\necho key-secret-4\n', { mode: 0o755 });
      execFileSync('ssh-add', ['-q', enc], { env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' }, stdio: 'ignore' });
      process.env.SSH_AUTH_SOCK = sock;
      const s = await connect('node1', { privateKeyFile: enc });
      expect((await s.exec('id -un')).stdout).toBe('ubuntu\n');
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      agent.kill();
    }
  });

  it('sudo with the become password on stdin; NOPASSWD too', async () => {
    expect((await (await connect('node2')).sudo('id -u')).stdout).toBe('0\n');
    expect((await (await connect('node3')).sudo('id -u')).stdout).toBe('0\n');
    expect((await (await connect('node1')).sudo('id -u')).stdout).toBe('0\n');
    // Input reaches the command, not sudo.
    expect((await (await connect('node2')).sudo('cat', { input: 'abc\nxyz' })).stdout).toBe('abc\nxyz');
  });

  it('the become password is never on the node\'s process list', async () => {
    const s = await connect('node2');
    const running = s.sudo('sleep 3');
    let ps = '';
    for (let i = 0; i < 100 && !ps.includes('sleep 3'); i++) {
      ps = (await sb.exec('node2', 'ps -eo args')).stdout;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(ps).toContain('sleep 3');
    for (const s of secrets) expect(ps).not.toContain(s);
    await running;
  });

  it('a wrong become password is a clear error naming the host, not the password', async () => {
    const s = await connect('node2', { becomePassword: 'login-two' });
    const e = await failure(s.sudo('id -u'));
    expect(e.node).toBe('node2');
    expect(e.message).toMatch(/^node2: sudo refused the become password/);
    const none = await connect('node3', { becomePassword: undefined });
    expect((await failure(none.sudo('true'))).message).toContain('no become password');
  });

  it('a stopped sshd is named as such', async () => {
    sb.stopSshd('node3');
    try {
      const e = await failure(connect('node3'));
      expect(e.message).toMatch(/^node3: connection refused by .*: is sshd running\?/);
    } finally {
      await sb.startSshd('node3');
    }
  });

  it('upload and readFile are byte exact, as root', async () => {
    const s = await connect('node2');
    const bytes = Buffer.concat([randomBytes(300_000), Buffer.from('\n\0\r\n')]);
    await s.upload(bytes, '/opt/ksb/blob.bin', { mode: 0o600 });
    const got = await s.readFile('/opt/ksb/blob.bin');
    expect(got!.equals(bytes)).toBe(true);
    expect(readFileSync(join(sb.rootOf('node2'), 'opt/ksb/blob.bin')).equals(bytes)).toBe(true);
    expect((await sb.exec('node2', 'stat -c %a:%U /opt/ksb/blob.bin')).stdout).toBe('600:root\n');
    expect(await s.readFile('/opt/ksb/none')).toBeUndefined();
  });

  it('many commands in parallel over one connection and across nodes', async () => {
    const sessions = await Promise.all(['node1', 'node2', 'node3'].map((n) => connect(n)));
    const outs = await Promise.all(sessions.flatMap((s) => Array.from({ length: 4 }, (_, i) => s.sudo(`echo ${s.name}-${i}`))));
    expect(outs.map((o) => o.stdout.trim()).sort()).toEqual(
      ['node1', 'node2', 'node3'].flatMap((n) => [0, 1, 2, 3].map((i) => `${n}-${i}`)).sort(),
    );
  });

  it('the local session (ansible_connection=local) has the same interface', async () => {
    const s = new LocalSession('taskbox');
    const f = join(dir, 'local', 'x.bin');
    const bytes = randomBytes(1000);
    await s.upload(bytes, f, { mode: 0o640 });
    expect((await s.readFile(f))!.equals(bytes)).toBe(true);
    expect((await s.sudo('id -u')).stdout).toBe('0\n');
    const e = await failure(s.exec('exit 4'));
    expect(e.message).toMatch(/^taskbox: command failed \(exit 4\)/);
  });
});
