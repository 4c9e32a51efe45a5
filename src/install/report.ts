import type { NodeSession } from '../nodes/session.js';
import type { Miss } from '../mirror/server.js';

/** The seed's banner, with the node ports read from the cluster; undefined when the playbooks installed no cluster. */
export async function clusterBanner(master: NodeSession | undefined, masterIp: string): Promise<string | undefined> {
  if (!master) return undefined;
  const kubectl = 'kubectl --kubeconfig /etc/kubernetes/admin.conf';
  const probe = await master.sudo(`command -v kubectl >/dev/null && [ -r /etc/kubernetes/admin.conf ] && echo yes`, { allowFail: true });
  if (probe.stdout.trim() !== 'yes') return undefined;
  const port = async (ns: string, svc: string, name?: string) =>
    (await master.sudo(`${kubectl} -n ${ns} get svc ${svc} -o jsonpath='{.spec.ports[${name ? `?(@.name=="${name}")` : '0'}].nodePort}'`, { allowFail: true })).stdout.trim();
  const console = await port('kubesphere-system', 'ks-console');
  const api = (await master.sudo(`${kubectl} config view --minify -o jsonpath='{.clusters[0].cluster.server}'`, { allowFail: true })).stdout.trim();
  const lines = [
    '#####################################################',
    '###              Welcome to KubeSphere!           ###',
    '#####################################################',
    '',
    console ? `Console: http://${masterIp}:${console}` : 'Console: not found (is KubeSphere installed?)',
    'Account: admin',
    'Password: P@88w0rd (change it at first login)',
    `API server: ${api || `https://${masterIp}:6443`}`,
    '',
    'KubeSphere is running!',
  ];
  return lines.join('\n');
}

const MISS_COUNT = 'x-ks-bundle-miss-count';

/** How many misses the mirror has seen so far: the mark to compare against after the install. */
export async function lastMissSeq(mirrorLocalUrl: string): Promise<number> {
  const res = await fetch(`${mirrorLocalUrl}/misses`);
  const list = (await res.json()) as Miss[];
  return Number(res.headers.get(MISS_COUNT) ?? list.length);
}

/**
 * The misses after mark `since`: how many there were, and those the mirror still keeps (the latest ones; it keeps a
 * bounded number). A mirror left running by an older version numbers nothing and keeps them all.
 */
export async function missesSince(mirrorLocalUrl: string, since: number): Promise<{ count: number; kept: Miss[] }> {
  const res = await fetch(`${mirrorLocalUrl}/misses?since=${since}`);
  const list = (await res.json()) as Miss[];
  const total = res.headers.get(MISS_COUNT);
  if (total === null) return { count: list.length - since, kept: list.slice(since) };
  return { count: Number(total) - since, kept: list };
}

export function formatMisses(misses: Miss[]): string {
  return misses.map((m) => `  ${m.client} ${m.method} ${m.path} (${m.reason})`).join('\n');
}
