import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, openSync, closeSync, chmodSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureRootfs } from './rootfs.js';
import { planNet, createNet, destroyNet, nodeIp, type SandboxNet } from './network.js';
import { sh, alive, killPid, sleepSync, mountsUnder, unmountAll } from './sys.js';
import { run, type RunResult } from './run.js';

/**
 * The sandbox of TESTBED.md: chroot nodes (overlayfs over a cached bookworm rootfs), each in its own network
 * namespace on one bridge, each running a real sshd in its own uts/mount/pid namespaces. Everything it starts,
 * mounts or creates is recorded as it happens and undone by `teardown()` (also on exit and on SIGINT/SIGTERM):
 * processes by PID, mounts by path, namespaces by name.
 */
export interface NodeSpec {
  name: string;
  auth: 'key' | 'password';
  /** The login password (password auth). Default: a fixed test password. */
  password?: string;
  /** sudo asks for this (root's password via `Defaults rootpw` when it differs from the login password); none: NOPASSWD. */
  becomePassword?: string;
}

export interface SandboxNode {
  name: string;
  ip: string;
  port: number;
  user: string;
  auth: 'key' | 'password';
  password: string;
  becomePassword?: string;
  /** Private key of the user (every node gets one; key-auth nodes accept only it). */
  keyPath: string;
  /** `SHA256:…` per key type: ed25519, ecdsa, rsa. */
  hostKeys: Record<string, { fingerprint: string; publicKey: string }>;
  root: string;
  netns: string;
}

export interface Sandbox {
  dir: string;
  subnet: string;
  /** The host's own address on the bridge, when joined. */
  hostIp?: string;
  nodes: Map<string, SandboxNode>;
  node(name: string): SandboxNode;
  /** Run `sh -c cmd` as root inside the node (its chroot, network and, while sshd runs, its pid/uts namespaces). */
  exec(node: string, cmd: string, opts?: { input?: string; allowFail?: boolean }): Promise<RunResult>;
  rootOf(node: string): string;
  stopSshd(node: string): void;
  startSshd(node: string): Promise<void>;
  /**
   * A hosts.ini for the nodes in the seed's format: the first node is master and etcd, the others are
   * kube-node. `localNode` is written with ansible_connection=local (the taskbox, when the installer runs inside
   * it); `keyPath` maps a node to where its private key will be seen (default: the host path).
   */
  inventoryIni(opts?: { localNode?: string; keyPath?: (node: SandboxNode) => string; extra?: string }): string;
  /** Host PIDs the sandbox runs: each node's `unshare` and its pid 1 (sshd). */
  pids(): number[];
  /** A known_hosts text with every node's host keys (OpenSSH format, `[ip]:port` when the port is not 22). */
  knownHosts(): string;
  teardown(): Promise<void>;
}

export interface SandboxOptions {
  nodes: NodeSpec[];
  subnet?: string;
  /** Put the host on the bridge (address .254) so tests on the host reach the nodes. Default true. */
  joinHost?: boolean;
  user?: string;
  port?: number;
  /**
   * Give nodes a default route to a gateway that forwards nothing (the bridge namespace at .1): traffic out still
   * fails at once (No route to host), and Ansible's ansible_default_ipv4 is filled in. Default false: no route.
   */
  defaultRoute?: boolean;
}

interface State {
  dir: string;
  net: SandboxNet;
  overlays: string[];
  sshd: Map<string, number>; // node -> pid of the `unshare --kill-child` that holds its namespaces
  done: boolean;
}

const live = new Set<State>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const s of live) teardownSync(s);
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const s of live) teardownSync(s);
      process.kill(process.pid, sig);
    });
  }
}

/** What a sandbox has made so far, on disk, so a later run can undo a run that was SIGKILLed. */
function saveState(state: State): void {
  const { net } = state;
  writeFileSync(
    join(state.dir, 'state.json'),
    JSON.stringify({ ...net, nodeNs: [...net.nodeNs], overlays: state.overlays, sshd: [...state.sshd] }),
  );
}

/**
 * Undo sandboxes whose owner died without its exit handler (SIGKILL): their processes (only a PID whose command
 * line still names that sandbox's tree, so a reused PID is never hit), mounts, namespaces and guard route.
 */
export function cleanupStaleSandboxes(): string[] {
  const cleaned: string[] = [];
  for (const f of readdirSync('/tmp').filter((x) => x.startsWith('ksb-sandbox-'))) {
    const dir = join('/tmp', f);
    try {
      const owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
      if (alive(owner)) continue;
      const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as SandboxNet & {
        nodeNs: [string, string][];
        overlays: string[];
        sshd: [string, number][];
      };
      const state: State = {
        dir,
        net: { ...saved, nodeNs: new Map(saved.nodeNs) },
        overlays: saved.overlays,
        sshd: new Map(),
        done: false,
      };
      for (const [, pid] of saved.sshd) {
        let cmd = '';
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          continue;
        }
        if (cmd.includes(dir + '/')) state.sshd.set(String(pid), pid);
      }
      teardownSync(state);
      cleaned.push(dir);
    } catch {
      // Not ours or half written: leave it.
    }
  }
  return cleaned;
}

export async function createSandbox(opts: SandboxOptions): Promise<Sandbox> {
  cleanupStaleSandboxes();
  const rootfs = await ensureRootfs();
  const user = opts.user ?? 'ubuntu';
  const port = opts.port ?? 22;
  const names = opts.nodes.map((n) => n.name);
  if (new Set(names).size !== names.length) throw new Error('sandbox node names must be unique');
  const dir = mkdtempSync('/tmp/ksb-sandbox-');
  const state: State = { dir, net: planNet(opts.subnet), overlays: [], sshd: new Map(), done: false };
  live.add(state);
  hookExit();
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const nodes = new Map<string, SandboxNode>();
  try {
    for (let attempt = 0; ; attempt++) {
      saveState(state);
      try {
        createNet(state.net, names, { joinHost: opts.joinHost ?? true, defaultRoute: opts.defaultRoute ?? false });
        break;
      } catch (e) {
        // Another sandbox took the same /24 between our look and our guard route: nothing made yet, pick again.
        if (state.net.guard || opts.subnet || attempt >= 5 || !/File exists/.test(String(e))) throw e;
        state.net = planNet();
      } finally {
        saveState(state);
      }
    }
    const hosts = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback']
      .concat(names.map((n, i) => `${nodeIp(state.net, i)} ${n}`))
      .join('\n') + '\n';
    opts.nodes.forEach((spec, i) => {
      const base = join(dir, spec.name);
      const root = join(base, 'merged');
      for (const d of ['upper', 'work', 'merged']) mkdirSync(join(base, d), { recursive: true });
      sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${rootfs},upperdir=${base}/upper,workdir=${base}/work`, root]);
      state.overlays.push(root);
      saveState(state);
      writeFileSync(join(root, 'etc/hostname'), spec.name + '\n');
      writeFileSync(join(root, 'etc/hosts'), hosts);
      const password = spec.password ?? 'ksb-login-pw';
      sh('chroot', [root, 'useradd', '-m', '-s', '/bin/bash', user]);
      sh('chroot', [root, 'chpasswd'], { input: `${user}:${password}\n` });
      let sudoers = `${user} ALL=(ALL:ALL) NOPASSWD: ALL\n`;
      if (spec.becomePassword !== undefined) {
        sudoers = `${user} ALL=(ALL:ALL) ALL\n`;
        if (spec.becomePassword !== password) {
          sudoers += `Defaults:${user} rootpw\n`;
          sh('chroot', [root, 'chpasswd'], { input: `root:${spec.becomePassword}\n` });
        }
      }
      writeFileSync(join(root, 'etc/sudoers.d/ksb'), sudoers, { mode: 0o440 });
      const keyPath = join(dir, `${spec.name}_ed25519`);
      sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${user}@${spec.name}`, '-f', keyPath]);
      const ssh = join(root, 'home', user, '.ssh');
      mkdirSync(ssh, { recursive: true });
      writeFileSync(join(ssh, 'authorized_keys'), readFileSync(keyPath + '.pub'));
      sh('chroot', [root, 'chown', '-R', `${user}:${user}`, `/home/${user}/.ssh`]);
      chmodSync(ssh, 0o700);
      chmodSync(join(ssh, 'authorized_keys'), 0o600);
      writeFileSync(
        join(root, 'etc/ssh/sshd_config.d/ksb.conf'),
        `PasswordAuthentication ${spec.auth === 'password' ? 'yes' : 'no'}\nKbdInteractiveAuthentication no\nUseDNS no\n`,
      );
      sh('chroot', [root, 'ssh-keygen', '-A']);
      mkdirSync(join(root, 'run/sshd'), { recursive: true });
      const hostKeys: SandboxNode['hostKeys'] = {};
      for (const t of ['ed25519', 'ecdsa', 'rsa']) {
        const pub = join(root, `etc/ssh/ssh_host_${t}_key.pub`);
        const fp = sh('ssh-keygen', ['-l', '-E', 'sha256', '-f', pub]).split(' ')[1]!;
        hostKeys[t] = { fingerprint: fp, publicKey: readFileSync(pub, 'utf8').trim().split(' ').slice(0, 2).join(' ') };
      }
      nodes.set(spec.name, {
        name: spec.name, ip: nodeIp(state.net, i), port, user, auth: spec.auth, password, becomePassword: spec.becomePassword,
        keyPath, hostKeys, root, netns: state.net.nodeNs.get(spec.name)!,
      });
    });
    await Promise.all([...nodes.values()].map((n) => startSshd(state, n)));
    saveState(state);
  } catch (e) {
    teardownSync(state);
    throw e;
  }

  const get = (name: string): SandboxNode => {
    const n = nodes.get(name);
    if (!n) throw new Error(`no sandbox node ${name}`);
    return n;
  };
  return {
    dir,
    subnet: state.net.subnet,
    hostIp: state.net.hostIp,
    nodes,
    node: get,
    rootOf: (name) => get(name).root,
    exec: (name, cmd, o = {}) => {
      const n = get(name);
      const pid = state.sshd.get(name);
      const inner = pid !== undefined ? childOf(pid) : undefined;
      // Inside sshd's namespaces the node has its /proc, /sys and /dev; without sshd, its chroot and network.
      const argv = inner !== undefined
        ? ['--target', String(inner), '--mount', '--uts', '--net', '--pid', '--root', '--wd', '--', '/bin/sh', '-c', cmd]
        : [`--net=/run/netns/${n.netns}`, '--', 'chroot', n.root, '/bin/sh', '-c', cmd];
      return run('nsenter', argv, { input: o.input, allowFail: o.allowFail, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', HOME: '/root' } });
    },
    stopSshd: (name) => {
      const pid = state.sshd.get(name);
      if (pid !== undefined) stopNodeProcs(pid);
      state.sshd.delete(name);
      saveState(state);
    },
    startSshd: async (name) => {
      await startSshd(state, get(name));
      saveState(state);
    },
    inventoryIni: (o = {}) => {
      const all = [...nodes.values()];
      const line = (n: SandboxNode): string => {
        if (n.name === o.localNode) return `${n.name} ansible_connection=local ip=${n.ip}`;
        const auth = n.auth === 'key'
          ? `ansible_ssh_private_key_file=${(o.keyPath ?? ((x: SandboxNode) => x.keyPath))(n)}`
          : `ansible_password=${n.password}`;
        const become = n.becomePassword !== undefined ? ` ansible_become_pass=${n.becomePassword}` : '';
        return `${n.name} ansible_host=${n.ip} ip=${n.ip} ansible_port=${n.port} ansible_user=${n.user} ${auth} ansible_become=yes ansible_become_user=root${become}`;
      };
      return [
        '[all]', ...all.map(line), '',
        '[kube-master]', all[0]!.name, '',
        '[kube-node]', ...(all.length > 1 ? all.slice(1) : all).map((n) => n.name), '',
        '[etcd]', all[0]!.name, '',
        '[k8s-cluster:children]', 'kube-node', 'kube-master', '',
        ...(o.extra ? [o.extra] : []),
      ].join('\n');
    },
    pids: () => [...state.sshd.values()].flatMap((p) => [p, childOf(p)].filter((x): x is number => x !== undefined)),
    knownHosts: () =>
      [...nodes.values()]
        .flatMap((n) => Object.values(n.hostKeys).map((k) => `${n.port === 22 ? n.ip : `[${n.ip}]:${n.port}`} ${k.publicKey}`))
        .join('\n') + '\n',
    teardown: async () => teardownSync(state),
  };
}

async function startSshd(state: State, n: SandboxNode): Promise<void> {
  if (state.sshd.has(n.name)) return;
  const M = n.root;
  const script = [
    `hostname ${n.name}`,
    `mount -t proc proc ${M}/proc`,
    `mount -t sysfs sysfs ${M}/sys`,
    `mount --rbind /sys/fs/cgroup ${M}/sys/fs/cgroup`,
    `mount --rbind /dev ${M}/dev`,
    `exec chroot ${M} /usr/sbin/sshd -D -e -p ${n.port}`,
  ].join(' && ');
  const log = join(state.dir, `${n.name}.sshd.log`);
  const start = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
  const fd = openSync(log, 'a');
  // nsenter execs unshare (same PID); --kill-child takes the node's whole pid namespace down with it.
  const child = spawn(
    'nsenter',
    [`--net=/run/netns/${n.netns}`, '--', 'unshare', '--uts', '--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private', 'sh', '-c', script],
    { stdio: ['ignore', fd, fd], detached: true },
  );
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`cannot start sshd on ${n.name}`);
  state.sshd.set(n.name, child.pid);
  saveState(state);
  child.unref();
  for (;;) {
    const text = readFileSync(log, 'utf8').slice(start);
    if (/Server listening on 0\.0\.0\.0/.test(text)) return;
    if (!alive(child.pid)) throw new Error(`sshd on ${n.name} exited:\n${text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * `unshare --fork` ignores SIGTERM while it waits, so the node's pid 1 (sshd) gets the SIGTERM; when it exits the
 * kernel kills the rest of that pid namespace and unshare returns. SIGKILL to unshare is the fallback
 * (--kill-child then takes the namespace down).
 */
function stopNodeProcs(unsharePid: number): void {
  const inner = childOf(unsharePid);
  if (inner !== undefined) killPid(inner, 2000);
  const until = Date.now() + 2000;
  while (alive(unsharePid) && Date.now() < until) sleepSync(10);
  if (alive(unsharePid)) killPid(unsharePid, 0);
}

/** The first child of a PID (the node's pid 1 under its `unshare`). */
function childOf(pid: number): number | undefined {
  try {
    const c = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return c ? Number(c) : undefined;
  } catch {
    return undefined;
  }
}

function teardownSync(state: State): void {
  if (state.done) return;
  for (const pid of state.sshd.values()) stopNodeProcs(pid);
  state.sshd.clear();
  for (const root of state.overlays.reverse()) unmountAll(root);
  unmountAll(state.dir);
  destroyNet(state.net);
  // Delete the tree only when nothing is mounted under it any more: a leftover bind of /dev must never be rm'd.
  const left = mountsUnder(state.dir);
  if (left.length === 0) rmSync(state.dir, { recursive: true, force: true });
  else process.stderr.write(`sandbox: left ${state.dir} in place, still mounted: ${left.join(', ')}\n`);
  state.done = true;
  live.delete(state);
}
