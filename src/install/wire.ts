import { applyFiles, type WriteOutcome } from '../nodes/wiring.js';
import { redactSecrets } from '../nodes/node-error.js';
import type { BundleInfo } from './bundle-info.js';
import type { HostCheck } from './preflight.js';
import { osName } from './preflight-rules.js';
import { aptChanges, pipChanges, registryChanges } from './wiring-plan.js';

export interface WireResult {
  host: string;
  changed: number;
  unchanged: number;
  error?: string;
}

/** Point every node's apt, pip, containerd and docker at the mirror, all nodes at once, one round trip each. */
export async function wireNodes(hosts: HostCheck[], info: BundleInfo, mirrorUrl: string): Promise<WireResult[]> {
  return Promise.all(
    hosts.map(async (h): Promise<WireResult> => {
      const s = h.session!;
      try {
        const changes = [
          ...(await aptChanges(s, info, osName(h.facts!), mirrorUrl)),
          ...pipChanges(mirrorUrl),
          ...(await registryChanges(s, info, mirrorUrl)),
        ];
        const outcomes: WriteOutcome[] = await applyFiles(s, changes);
        return { host: h.name, changed: outcomes.filter((o) => o !== 'unchanged').length, unchanged: outcomes.filter((o) => o === 'unchanged').length };
      } catch (err) {
        return { host: h.name, changed: 0, unchanged: 0, error: redactSecrets((err as Error).message, [h.target.password, h.target.becomePassword]) };
      }
    }),
  );
}
