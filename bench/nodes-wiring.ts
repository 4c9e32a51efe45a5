/**
 * Wiring 1 node vs 3 nodes in parallel (goal: 3 nodes ≤ 1.3× one). Real sshd nodes in the sandbox of
 * test/testbed; each round writes the four wiring files (apt source, pip.conf, containerd hosts.toml, docker
 * daemon.json) with backups, in one sudo per node (applyFiles) over one SSH session per node, then restores them
 * (not timed). Two sets of nodes: sudo with a become password (sudo verifies a yescrypt hash: CPU-heavy on
 * purpose) and NOPASSWD sudo. All sandbox nodes share this machine's CPUs, so the host CPU use during the
 * parallel rounds is printed too: a ratio above the goal with the CPUs saturated is node-side work, not waiting.
 * Run as root: npx tsx bench/nodes-wiring.ts [rounds]
 */
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, cpus } from 'node:os';
import { createSandbox, type NodeSpec } from '../test/testbed/sandbox.js';
import { connectSsh } from '../src/nodes/ssh.js';
import { applyFiles, restoreFiles } from '../src/nodes/wiring.js';
import type { NodeSession } from '../src/nodes/session.js';
import { median } from './lib/measure.js';

const rounds = Number(process.argv[2] ?? 7);
const mirror = 'http://10.0.0.1:5080';
const FILES: [string, string][] = [
  ['/etc/apt/sources.list.d/ks-bundle.sources', `Types: deb\nURIs: ${mirror}/apt/debian-12/\nSuites: bookworm\nComponents: main\nSigned-By: /etc/apt/keyrings/ks-bundle.gpg\n`],
  ['/etc/pip.conf', `[global]\nindex-url = ${mirror}/pypi/simple/\ntrusted-host = 10.0.0.1\n`],
  ['/etc/containerd/certs.d/docker.io/hosts.toml', `server = "${mirror}"\n\n[host."${mirror}"]\n  capabilities = ["pull", "resolve"]\n`],
  ['/etc/docker/daemon.json', JSON.stringify({ 'registry-mirrors': [mirror], 'insecure-registries': ['10.0.0.1:5080'] }, null, 2) + '\n'],
];

async function wire(s: NodeSession): Promise<void> {
  const out = await applyFiles(s, FILES.map(([path, content]) => ({ path, content })));
  if (out.some((o) => o !== 'created')) throw new Error(`${s.name}: unexpected outcomes ${out.join(',')}`);
}


/** Busy and total jiffies of all CPUs. */
function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}

async function scenario(label: string, nodes: NodeSpec[]): Promise<void> {
  const sb = await createSandbox({ nodes });
  const dir = mkdtempSync(join(tmpdir(), 'ksb-bench-'));
  try {
    const sessions: NodeSession[] = [];
    for (const n of sb.nodes.values()) {
      sessions.push(
        await connectSsh(
          { name: n.name, host: n.ip, port: n.port, user: n.user, becomePassword: n.becomePassword,
            ...(n.auth === 'key' ? { privateKeyFile: n.keyPath } : { password: n.password }) },
          { hostKeys: { knownHostsFile: join(dir, 'known_hosts'), acceptNew: true } },
        ),
      );
    }
    const one: number[] = [];
    const three: number[] = [];
    let busy = 0;
    let total = 0;
    let ownCpu1 = 0;
    let ownCpu3 = 0;
    for (let r = 0; r < rounds; r++) {
      let u = process.cpuUsage();
      let t = performance.now();
      await wire(sessions[0]!);
      one.push(performance.now() - t);
      u = process.cpuUsage(u);
      ownCpu1 += (u.user + u.system) / 1000;
      await restoreFiles(sessions[0]!);
      const c0 = cpuTimes();
      u = process.cpuUsage();
      t = performance.now();
      await Promise.all(sessions.map(wire));
      three.push(performance.now() - t);
      u = process.cpuUsage(u);
      ownCpu3 += (u.user + u.system) / 1000;
      const c1 = cpuTimes();
      busy += c1.busy - c0.busy;
      total += c1.total - c0.total;
      await Promise.all(sessions.map(restoreFiles));
    }
    for (const s of sessions) await s.close();
    const m1 = median(one);
    const m3 = median(three);
    console.log(`${label}: ${FILES.length} files, ${rounds} rounds, median 1 node ${m1.toFixed(0)} ms, 3 nodes in parallel ${m3.toFixed(0)} ms`);
    console.log(`  ratio 3/1 = ${(m3 / m1).toFixed(2)} (goal <= 1.30); host CPU busy during the parallel rounds: ${((100 * busy) / total).toFixed(0)}% of ${cpus().length} CPUs`);
    console.log(`  ks-bundle's own CPU per round: ${(ownCpu1 / rounds).toFixed(0)} ms for 1 node, ${(ownCpu3 / rounds).toFixed(0)} ms for 3 (the rest is sshd, sudo and sh on the nodes)`);
  } finally {
    await sb.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

await scenario('sudo with become password', [
  { name: 'node1', auth: 'password', password: 'pw1', becomePassword: 'b1' },
  { name: 'node2', auth: 'password', password: 'pw2', becomePassword: 'b2' },
  { name: 'node3', auth: 'password', password: 'pw3', becomePassword: 'b3' },
]);
await scenario('NOPASSWD sudo', [
  { name: 'node1', auth: 'key' },
  { name: 'node2', auth: 'key' },
  { name: 'node3', auth: 'key' },
]);
console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
