import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KsBundleError } from '../errors.js';
import { gatherFacts } from '../nodes/facts.js';
import type { NodeSession } from '../nodes/session.js';
import { applyFiles } from '../nodes/wiring.js';
import type { OnProgress } from '../progress/events.js';
import type { BundleInfo } from './bundle-info.js';
import { osName } from './preflight-rules.js';
import { aptChanges, pipChanges } from './wiring-plan.js';

export interface TaskboxResult {
  venv: string;
  ansiblePlaybook: string;
}

/**
 * InitInstaller on the taskbox (the seed's offline appendix): apt and pip point at the mirror, what the installer
 * needs comes from it, and a venv gets Ansible from the mirror's pip index. Nothing is fetched from anywhere else.
 */
export async function initTaskbox(s: NodeSession, info: BundleInfo, opts: { mirrorLocalUrl: string; stateDir: string; onProgress: OnProgress }): Promise<TaskboxResult> {
  const log = (message: string) => opts.onProgress({ type: 'log', level: 'info', message });
  const facts = await gatherFacts(s);
  const os = osName(facts);
  await applyFiles(s, [...(await aptChanges(s, info, os, opts.mirrorLocalUrl)), ...pipChanges(opts.mirrorLocalUrl)]);
  log(`taskbox: apt and pip point at ${opts.mirrorLocalUrl}`);
  const env = 'DEBIAN_FRONTEND=noninteractive';
  await s.sudo(`${env} apt-get update -q`).catch((err) => {
    throw new KsBundleError('FAILED', `taskbox: apt-get update from the mirror failed: ${(err as Error).message}`);
  });
  if (info.taskboxPackages.length) {
    await s.sudo(`${env} apt-get install -y -q --no-install-recommends ${info.taskboxPackages.join(' ')}`);
    log(`taskbox: installed ${info.taskboxPackages.join(', ')} from the mirror`);
  }
  const venv = join(opts.stateDir, 'venv');
  const ansiblePlaybook = join(venv, 'bin', 'ansible-playbook');
  if (!existsSync(ansiblePlaybook)) {
    if (!info.pipRequirements.length) throw new KsBundleError('FAILED', 'the bundle has no pip requirements to install Ansible from', { hint: 'Add spec.pip with ansible-core (or ansible), netaddr and Jinja2 to the manifest.' });
    await s.sudo(`python3 -m venv ${venv}`);
    // --isolated: only the mirror, whatever pip configuration or PIP_* the machine has.
    const reqs = info.pipRequirements.map((r) => `'${r.replace(/'/g, `'\\''`)}'`).join(' ');
    await s.sudo(`${venv}/bin/pip install --isolated --disable-pip-version-check -q --index-url ${opts.mirrorLocalUrl}/pypi/simple/ ${reqs}`);
    log(`taskbox: Ansible installed into ${venv} from the mirror`);
  }
  return { venv, ansiblePlaybook };
}
