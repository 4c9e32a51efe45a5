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

export async function fetchMisses(mirrorLocalUrl: string): Promise<Miss[]> {
  const res = await fetch(`${mirrorLocalUrl}/misses`);
  return (await res.json()) as Miss[];
}

export function formatMisses(misses: Miss[]): string {
  return misses.map((m) => `  ${m.client} ${m.method} ${m.path} (${m.reason})`).join('\n');
}
