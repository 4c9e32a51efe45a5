import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KsBundleError } from '../errors.js';
import { parseInventory } from '../nodes/inventory.js';
import { nodeTarget, openSession } from '../nodes/target.js';
import { restoreFiles } from '../nodes/wiring.js';
import { redactSecrets } from '../nodes/node-error.js';

/** `ks-bundle nodes restore`, its command line parsed (cli/nodes.ts). */
export async function restoreAction(o: { inventory: string; knownHosts?: string }): Promise<void> {
  const text = await readFile(o.inventory, 'utf8').catch(() => {
    throw new KsBundleError('INVALID_INPUT', `${o.inventory}: cannot read the inventory`);
  });
  const inv = parseInventory(text, o.inventory);
  const knownHostsFile = o.knownHosts ?? join(homedir(), '.ssh', 'known_hosts');
  const results = await Promise.all(
    [...inv.hosts.values()].map(async (h) => {
      const t = nodeTarget(h);
      try {
        const s = await openSession(t, { hostKeys: { knownHostsFile, acceptNew: false } });
        try {
          return { host: h.name, lines: await restoreFiles(s) };
        } finally {
          await s.close();
        }
      } catch (err) {
        return { host: h.name, error: redactSecrets((err as Error).message, [t.password, t.becomePassword]) };
      }
    }),
  );
  for (const r of results) {
    process.stdout.write(`${r.host}: ${r.error ? `FAILED: ${r.error}` : r.lines!.length ? '\n' + r.lines!.map((l) => '  ' + l).join('\n') : 'nothing to restore'}\n`);
  }
  if (results.some((r) => r.error)) throw new KsBundleError('FAILED', 'restore failed on some nodes (above)');
}
