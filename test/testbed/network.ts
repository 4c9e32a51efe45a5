import { randomBytes } from 'node:crypto';
import { sh, netnsList } from './sys.js';

/**
 * The sandbox network: a namespace holding a bridge, one namespace per node with a veth into it, all in one /24 with
 * no default route. The host-side guard (a blackhole route for the /24) goes in first and stays until the end: with
 * a high metric, so that while the host is joined to the bridge its connected route wins, and if that veth ever
 * disappears packets for the subnet are dropped here instead of leaving by the default route.
 */
export interface SandboxNet {
  id: string;
  subnet: string; // 10.213.X.0/24
  prefix: string; // 10.213.X.
  bridgeNs: string;
  nodeNs: Map<string, string>;
  hostVeth?: string;
  hostIp?: string;
  guard: boolean;
}

const GUARD_METRIC = '4242';

export function pickSubnet(): string {
  const routes = sh('ip', ['-4', 'route', 'show', 'table', 'all']);
  const addrs = sh('ip', ['-4', '-o', 'addr']);
  const start = 1 + (process.pid % 250);
  for (let k = 0; k < 250; k++) {
    const x = 1 + ((start + k) % 250);
    const prefix = `10.213.${x}.`;
    if (!routes.includes(prefix) && !addrs.includes(prefix)) return `${prefix}0/24`;
  }
  throw new Error('no free 10.213.x.0/24 subnet for a sandbox');
}

/** The plan of a network; `createNet` fills it in step by step so a failure half way can still be torn down. */
export function planNet(subnet?: string): SandboxNet {
  const s = subnet ?? pickSubnet();
  if (!/^10\.\d+\.\d+\.0\/24$/.test(s)) throw new Error(`sandbox subnet must be a private 10.x.y.0/24: ${s}`);
  const id = randomBytes(2).toString('hex');
  return { id, subnet: s, prefix: s.replace(/0\/24$/, ''), bridgeNs: `ksb-${id}-br`, nodeNs: new Map(), guard: false };
}

export function createNet(n: SandboxNet, nodes: string[], opts: { joinHost: boolean; defaultRoute?: boolean }): void {
  const subnet = n.subnet;
  // The guard first: from now on nothing addressed to the subnet can leave the machine.
  sh('ip', ['route', 'add', 'blackhole', subnet, 'metric', GUARD_METRIC]);
  n.guard = true;
  sh('ip', ['netns', 'add', n.bridgeNs]);
  sh('ip', ['-n', n.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
  sh('ip', ['-n', n.bridgeNs, 'link', 'set', 'br0', 'up']);
  nodes.forEach((name, i) => {
    const ns = `ksb-${n.id}-${i + 1}`;
    sh('ip', ['netns', 'add', ns]);
    n.nodeNs.set(name, ns);
    const a = `k${n.id}n${i + 1}a`;
    const b = `k${n.id}n${i + 1}b`;
    sh('ip', ['link', 'add', a, 'netns', ns, 'type', 'veth', 'peer', 'name', b, 'netns', n.bridgeNs]);
    sh('ip', ['-n', n.bridgeNs, 'link', 'set', b, 'master', 'br0', 'up']);
    sh('ip', ['-n', ns, 'link', 'set', a, 'name', 'eth0']);
    sh('ip', ['-n', ns, 'addr', 'add', `${n.prefix}${11 + i}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    if (opts.defaultRoute) sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', `${n.prefix}1`]);
  });
  if (opts.defaultRoute) {
    // The "gateway" is the bridge namespace itself. Its only routes are the /24 and an `unreachable` default, so
    // it answers anything aimed outside with an ICMP unreachable at once (the kernel sends those only with
    // forwarding on), while nodes see a default route (Ansible's ansible_default_ipv4 needs one).
    sh('ip', ['-n', n.bridgeNs, 'addr', 'add', `${n.prefix}1/24`, 'dev', 'br0']);
    sh('ip', ['-n', n.bridgeNs, 'route', 'add', 'unreachable', 'default']);
    sh('ip', ['netns', 'exec', n.bridgeNs, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  }
  if (opts.joinHost) {
    const h = `k${n.id}h`;
    sh('ip', ['link', 'add', h, 'type', 'veth', 'peer', 'name', `k${n.id}hb`, 'netns', n.bridgeNs]);
    n.hostVeth = h;
    sh('ip', ['-n', n.bridgeNs, 'link', 'set', `k${n.id}hb`, 'master', 'br0', 'up']);
    n.hostIp = `${n.prefix}254`;
    sh('ip', ['addr', 'add', `${n.hostIp}/24`, 'dev', h]);
    sh('ip', ['link', 'set', h, 'up']);
  }
}

export function nodeIp(net: SandboxNet, index: number): string {
  return `${net.prefix}${11 + index}`;
}

/** Deleting the namespaces deletes their veths (and so the host's); then the guard goes. */
export function destroyNet(net: SandboxNet): void {
  const present = new Set(netnsList());
  for (const ns of [...net.nodeNs.values(), net.bridgeNs]) {
    if (present.has(ns)) sh('ip', ['netns', 'del', ns], { allowFail: true });
  }
  if (net.hostVeth) sh('ip', ['link', 'del', net.hostVeth], { allowFail: true });
  if (net.guard) {
    sh('ip', ['route', 'del', 'blackhole', net.subnet, 'metric', GUARD_METRIC], { allowFail: true });
    net.guard = false;
  }
}
