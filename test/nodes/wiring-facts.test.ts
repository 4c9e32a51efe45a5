import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { createSandbox, type Sandbox } from '../testbed/sandbox.js';
import { connectSsh } from '../../src/nodes/ssh.js';
import { writeFileWithBackup, removeWithBackup, restoreFiles, changedFiles, applyFiles, BACKUP_LIST } from '../../src/nodes/wiring.js';
import { parseInventory } from '../../src/nodes/inventory.js';
import { nodeTarget, openSession } from '../../src/nodes/target.js';
import { randomBytes } from 'node:crypto';
import { gatherFacts, parseFacts, FACTS_SCRIPT } from '../../src/nodes/facts.js';
import type { NodeSession } from '../../src/nodes/session.js';
import { requireTools, isRoot } from '../support/tools.js';

/** Wiring with backup/restore and facts, on real nodes; originals are fingerprinted by the node's own tools. */
describe('wiring and facts on sandbox nodes', () => {
  let sb: Sandbox;
  let dir: string;
  const sessions = new Map<string, NodeSession>();

  beforeAll(async () => {
    expect(isRoot()).toBe(true);
    requireTools('ssh-keygen', 'nsenter', 'unshare', 'debootstrap', 'sha256sum');
    sb = await createSandbox({
      nodes: [
        { name: 'node1', auth: 'key' },
        { name: 'node2', auth: 'password', password: 'pw-two', becomePassword: 'become-two' },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'ksb-wiring-test-'));
    for (const n of sb.nodes.values()) {
      sessions.set(
        n.name,
        await connectSsh(
          {
            name: n.name, host: n.ip, port: n.port, user: n.user,
            ...(n.auth === 'key' ? { privateKeyFile: n.keyPath } : { password: n.password }),
            becomePassword: n.becomePassword,
          },
          { hostKeys: { knownHostsFile: join(dir, 'known_hosts'), acceptNew: true } },
        ),
      );
    }
  });
  afterAll(async () => {
    for (const s of sessions.values()) await s.close();
    await sb?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Bytes, mode, owner and mtime of files on a node, as the node's own coreutils see them. */
  const fingerprintFiles = async (node: string, paths: string[]) =>
    (await sb.exec(node, paths.map((p) => `if [ -e ${p} ]; then sha256sum ${p}; stat -c '%a %U:%G %Y' ${p}; else echo absent ${p}; fi`).join('; '))).stdout;

  const FILES = ['/etc/apt/sources.list', '/etc/pip.conf', '/etc/containerd/certs.d/docker.io/hosts.toml', '/etc/hosts'];

  it('writes with a backup, reruns unchanged, keeps the pristine backup, restores byte for byte', async () => {
    for (const node of ['node1', 'node2']) {
      const s = sessions.get(node)!;
      // An odd mode on an existing file: restore must bring it back too.
      await sb.exec(node, 'chmod 0604 /etc/apt/sources.list');
      const before = await fingerprintFiles(node, FILES);
      expect(before).toContain('absent /etc/pip.conf');
      const folders = async () => (await sb.exec(node, 'find /etc -type d | sort')).stdout;
      const foldersBefore = await folders();
      expect(foldersBefore).not.toMatch(/^\/etc\/containerd\/certs\.d\/docker\.io$/m);

      const apt = 'Types: deb\nURIs: http://10.0.0.1:5080/apt/debian-12\nSuites: bookworm\nComponents: main\n';
      const pip = '[global]\nindex-url = http://10.0.0.1:5080/pypi/simple/\ntrusted-host = 10.0.0.1\n';
      const toml = 'server = "http://10.0.0.1:5080"\n\n[host."http://10.0.0.1:5080"]\n  capabilities = ["pull", "resolve"]\n';
      expect(await writeFileWithBackup(s, '/etc/apt/sources.list', apt)).toBe('changed');
      expect(await writeFileWithBackup(s, '/etc/pip.conf', pip)).toBe('created');
      expect(await writeFileWithBackup(s, '/etc/containerd/certs.d/docker.io/hosts.toml', toml)).toBe('created');
      expect(await removeWithBackup(s, '/etc/hosts')).toBe('changed');
      expect(readFileSync(join(sb.rootOf(node), 'etc/pip.conf'), 'utf8')).toBe(pip);
      // The existing file kept its mode; the new one got 0644.
      expect((await sb.exec(node, 'stat -c %a /etc/apt/sources.list /etc/pip.conf')).stdout).toBe('604\n644\n');

      // A rerun changes nothing and duplicates no line of the list.
      expect(await writeFileWithBackup(s, '/etc/apt/sources.list', apt)).toBe('unchanged');
      expect(await writeFileWithBackup(s, '/etc/pip.conf', pip)).toBe('unchanged');
      expect(await removeWithBackup(s, '/etc/hosts')).toBe('unchanged');
      // New content on a later run: the backup stays the pristine original.
      expect(await writeFileWithBackup(s, '/etc/apt/sources.list', apt + '# again\n')).toBe('changed');
      expect(await writeFileWithBackup(s, '/etc/pip.conf', pip + '# again\n')).toBe('changed');
      const listed = await changedFiles(s);
      expect(listed).toEqual(['/etc/apt/sources.list', '/etc/pip.conf', '/etc/containerd/certs.d/docker.io/hosts.toml', '/etc/hosts']);

      const done = await restoreFiles(s);
      expect(done.slice(0, 4)).toEqual([
        'restored /etc/apt/sources.list', 'removed /etc/pip.conf', 'removed /etc/containerd/certs.d/docker.io/hosts.toml', 'restored /etc/hosts',
      ]);
      // Then the folders made for hosts.toml, deepest first, and nothing else.
      expect(done.slice(4)).toContain('removed /etc/containerd/certs.d/docker.io/');
      expect(done.slice(4).every((l) => /^removed \/etc\/containerd.*\/$/.test(l))).toBe(true);
      expect(await fingerprintFiles(node, FILES)).toBe(before);
      expect(await folders()).toBe(foldersBefore);
      const leftovers = (await sb.exec(node, `find /etc -name '*.ks-bundle.*'; ls ${BACKUP_LIST} 2>&1 || true`)).stdout;
      expect(leftovers).toMatch(/No such file/);
      expect(leftovers).not.toContain('.ks-bundle.');
      // Restoring twice is harmless.
      expect(await restoreFiles(s)).toEqual([]);
    }
  });

  it('facts of a real node agree with what the machine itself says', async () => {
    const f = await gatherFacts(sessions.get('node2')!);
    expect(f.osId).toBe('debian');
    expect(f.osVersionId).toBe('12');
    expect(f.codename).toBe('bookworm');
    expect(f.arch).toBe(execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim());
    expect(f.machine).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
    expect(f.cpus).toBe(Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
    const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(f.memoryBytes).toBe(memKb * 1024);
    // The node's / is an overlay whose upper dir lives on the host's filesystem under the sandbox dir.
    const df = execFileSync('df', ['-P', '-k', sb.dir], { encoding: 'utf8' }).trim().split('\n')[1]!.split(/\s+/);
    expect(f.diskBytes).toBe(Number(df[1]) * 1024);
  });

  it('the facts parser on a real ubuntu-style sample and a broken one', () => {
    const sample = FACTS_SCRIPT.split('; echo @@ksb-facts@@; ').length;
    expect(sample).toBe(6);
    const out = [
      'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy',
      'aarch64', '', '16',
      'MemTotal:       32780412 kB\nMemFree:        1000 kB',
      '/dev/sda1 102687672 5000000 92425708 6% /',
    ].join('\n@@ksb-facts@@\n');
    expect(parseFacts(out)).toEqual({
      osId: 'ubuntu', osVersionId: '22.04', codename: 'jammy', machine: 'aarch64', arch: 'arm64', cpus: 16,
      memoryBytes: 32780412 * 1024, diskBytes: 102687672 * 1024, diskFreeBytes: 92425708 * 1024,
    });
    expect(() => parseFacts('garbage')).toThrow(/unexpected facts output/);
  });

  it('applyFiles: a batch in one sudo, binary content, a removal; rerun unchanged; restore', async () => {
    const s = sessions.get('node2')!;
    const bin = Buffer.concat([randomBytes(5000), Buffer.from("\nKSB_EOF_x\n'$(reboot)'")]);
    const before = await fingerprintFiles('node2', ['/etc/hostname', '/usr/local/bin/tool']);
    const changes = [
      { path: '/usr/local/bin/tool', content: bin, mode: 0o755 },
      { path: '/etc/hostname', remove: true as const },
      { path: '/etc/ks-bundle/a b.conf', content: 'x=1\n' },
    ];
    expect(await applyFiles(s, changes)).toEqual(['created', 'changed', 'created']);
    expect(readFileSync(join(sb.rootOf('node2'), 'usr/local/bin/tool')).equals(bin)).toBe(true);
    expect((await sb.exec('node2', 'stat -c %a /usr/local/bin/tool')).stdout).toBe('755\n');
    expect(await applyFiles(s, changes)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    // The folder made for "a b.conf" goes too.
    expect(await restoreFiles(s)).toEqual(['removed /usr/local/bin/tool', 'restored /etc/hostname', 'removed /etc/ks-bundle/a b.conf', 'removed /etc/ks-bundle/']);
    expect(existsSync(join(sb.rootOf('node2'), 'etc/ks-bundle'))).toBe(false);
    expect(await fingerprintFiles('node2', ['/etc/hostname', '/usr/local/bin/tool'])).toBe(before);
  });

  it('from an inventory to sessions (ssh key, ssh password + become, local) and facts, in parallel', async () => {
    const n1 = sb.node('node1');
    const n2 = sb.node('node2');
    const inv = parseInventory(
      [
        '[all]',
        'taskbox ansible_connection=local ip=127.0.0.1',
        `node1 ansible_host=${n1.ip} ip=${n1.ip} ansible_user=${n1.user} ansible_ssh_private_key_file=${n1.keyPath}`,
        `node2 ansible_host=${n2.ip} ip=${n2.ip} ansible_user=${n2.user} ansible_password=${n2.password} ansible_become=yes ansible_become_pass=${n2.becomePassword}`,
        '[kube-master]', 'taskbox', '[etcd]', 'taskbox', '[kube-node]', 'node1', 'node2', '',
      ].join('\n'),
      'hosts.ini',
    );
    const opened = await Promise.all(
      [...inv.hosts.values()].map((h) => openSession(nodeTarget(h), { hostKeys: { knownHostsFile: join(dir, 'inv_known_hosts'), acceptNew: true } })),
    );
    try {
      const facts = await Promise.all(opened.map((s) => gatherFacts(s)));
      expect(facts.map((f) => f.osId)).toEqual(['debian', 'debian', 'debian']);
      const who = await Promise.all(opened.map((s) => s.sudo('id -u; hostname')));
      expect(who.map((w) => w.stdout.split('\n')[0])).toEqual(['0', '0', '0']);
      expect(who[1]!.stdout.split('\n')[1]).toBe('node1');
      expect(who[2]!.stdout.split('\n')[1]).toBe('node2');
    } finally {
      for (const s of opened) await s.close();
    }
  });
});
