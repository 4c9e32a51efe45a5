import type { Inventory } from '../nodes/inventory.js';
import { gatherFacts, type NodeFacts } from '../nodes/facts.js';
import type { NodeSession } from '../nodes/session.js';
import type { HostKeyPolicy } from '../nodes/ssh.js';
import { nodeTarget, openSession, type NodeTarget } from '../nodes/target.js';
import { redactSecrets } from '../nodes/node-error.js';
import { formatBytes, table } from '../progress/format.js';
import type { BundleInfo } from './bundle-info.js';
import { judgeFacts, osName } from './preflight-rules.js';

export interface HostCheck {
  name: string;
  target: NodeTarget;
  level: 'ok' | 'warn' | 'fail';
  notes: string[];
  facts?: NodeFacts;
  session?: NodeSession;
}

/**
 * Every host, in parallel, before anything changes anywhere: reachable, authenticates, sudo works with the become
 * password, OS/arch among the bundle's targets, hardware against the seed's table, and the mirror answers from it.
 */
export async function preflight(inv: Inventory, info: BundleInfo, opts: { hostKeys: HostKeyPolicy; ignoreHardware: boolean; mirrorUrl: string }): Promise<HostCheck[]> {
  return Promise.all(
    [...inv.hosts.values()].map(async (h): Promise<HostCheck> => {
      const target = nodeTarget(h);
      const row: HostCheck = { name: h.name, target, level: 'ok', notes: [] };
      const secrets = [target.password, target.becomePassword];
      try {
        row.session = await openSession(target, { hostKeys: opts.hostKeys, readyTimeoutMs: 10_000 });
        await row.session.sudo('true');
        row.facts = await gatherFacts(row.session);
        const verdict = judgeFacts(row.facts, info.targets, { ignoreHardware: opts.ignoreHardware });
        row.level = verdict.level;
        row.notes.push(...verdict.notes);
        const probe = await row.session.exec(mirrorProbe(`${opts.mirrorUrl}/healthz`), { allowFail: true });
        if (probe.code !== 0) {
          row.level = 'fail';
          row.notes.push(`cannot reach the mirror at ${opts.mirrorUrl} from here`);
        }
      } catch (err) {
        row.level = 'fail';
        row.notes.push(redactSecrets((err as Error).message, secrets));
      }
      return row;
    }),
  );
}

/** python3 is on every node Ansible can manage; curl and wget often are not on a minimal one. */
function mirrorProbe(url: string): string {
  return `python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' '${url}' 2>/dev/null || curl -fsS -m 5 -o /dev/null '${url}' 2>/dev/null || wget -q -T 5 -O /dev/null '${url}'`;
}

export function preflightTable(rows: HostCheck[]): string {
  return table([
    ['HOST', 'ADDRESS', 'OS', 'ARCH', 'CPU', 'MEMORY', 'DISK', 'RESULT'],
    ...rows.map((r) => [
      r.name,
      r.target.local ? 'local' : `${r.target.host}:${r.target.port}`,
      r.facts ? osName(r.facts) : '?',
      r.facts?.arch ?? '?',
      r.facts ? String(r.facts.cpus) : '?',
      r.facts ? formatBytes(r.facts.memoryBytes) : '?',
      r.facts ? formatBytes(r.facts.diskBytes) : '?',
      `${r.level.toUpperCase()}${r.notes.length ? ': ' + r.notes.join('; ') : ''}`,
    ]),
  ]);
}
