import type { NodeSession } from '../nodes/session.js';
import type { Miss } from '../mirror/server.js';

const KUBECTL = 'kubectl --kubeconfig /etc/kubernetes/admin.conf';

/**
 * The banner, with only what was checked just now from the first control-plane host: the API server answers
 * /readyz; with KubeSphere, ks-console's pods are ready and its NodePort on a node's InternalIP is the console URL.
 * Undefined when the playbooks installed no cluster (no kubectl and admin.conf there).
 */
export async function clusterBanner(master: NodeSession | undefined, opts: { kubesphere: boolean }): Promise<string | undefined> {
  if (!master) return undefined;
  const run = async (cmd: string) => (await master.sudo(cmd, { allowFail: true })).stdout.trim();
  if ((await run(`command -v kubectl >/dev/null && [ -r /etc/kubernetes/admin.conf ] && echo yes`)) !== 'yes') return undefined;
  const api = await run(`${KUBECTL} config view --minify -o jsonpath='{.clusters[0].cluster.server}'`);
  const ready = await run(`${KUBECTL} get --raw /readyz`);
  const lines = [`API server: ${api || '(not in admin.conf)'} ${ready === 'ok' ? '(answered /readyz: ok)' : `(NOT ready: /readyz said ${JSON.stringify(ready.slice(0, 80)) || 'nothing'})`}`];
  if (opts.kubesphere) {
    const port = await run(`${KUBECTL} -n kubesphere-system get svc ks-console -o jsonpath='{.spec.ports[0].nodePort}'`);
    const node = await run(`${KUBECTL} get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}'`);
    const pods = await run(`${KUBECTL} -n kubesphere-system get deploy ks-console -o jsonpath='{.status.readyReplicas}/{.status.replicas}'`);
    const [readyPods, wantedPods] = pods.split('/');
    const up = !!readyPods && readyPods === wantedPods;
    lines.push(
      port && node ? `KubeSphere console: http://${node.includes(':') ? `[${node}]` : node}:${port} (ks-console's NodePort on a node's InternalIP)` : 'KubeSphere console: no NodePort found for svc/ks-console',
      `ks-console pods ready: ${pods || 'none'}${up ? '' : ' (NOT ready)'}`,
    );
  }
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
