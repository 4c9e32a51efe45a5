import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';

const run = promisify(execFile);

/**
 * A play on localhost that sees kubespray's own variables as a cluster.yml run does: kubespray-defaults (its
 * defaults/main/*.yml and vars/main.yml) and the defaults of the roles named, loaded from the real tree, then the
 * installer's vars files as `-e @file`, exactly as `ansible-playbook` gets them on the taskbox.
 */
export interface KubesprayPlay {
  kubespray: string;
  /** Roles whose defaults/main.yml the tasks read, e.g. container-engine/containerd. */
  roles: string[];
  tasks: unknown[];
  /** `-e @file`, in order. */
  extraVarFiles: string[];
  /** Facts of this machine (`gather_subset: min`), for templates that read ansible_system and the like. */
  facts?: boolean;
  /** An inventory (YAML) and the pattern the play runs on; localhost alone by default. */
  inventory?: Record<string, unknown>;
  hosts?: string;
}

export function kubesprayVarsFiles(kubespray: string, roles: string[]): string[] {
  const defaults = join(kubespray, 'roles/kubespray-defaults/defaults/main');
  return [
    ...readdirSync(defaults).filter((f) => f.endsWith('.yml')).sort().map((f) => join(defaults, f)),
    ...roles.map((r) => join(kubespray, 'roles', r, 'defaults/main.yml')),
    join(kubespray, 'roles/kubespray-defaults/vars/main.yml'),
  ];
}

export async function runKubesprayPlay(dir: string, name: string, p: KubesprayPlay): Promise<string> {
  const play = [
    {
      hosts: p.hosts ?? 'localhost',
      gather_facts: p.facts ?? false,
      ...(p.facts ? { gather_subset: ['min'] } : {}),
      vars_files: kubesprayVarsFiles(p.kubespray, p.roles),
      tasks: p.tasks,
    },
  ];
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, yaml.dump(play, { lineWidth: -1 }));
  const env = { ...process.env, ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false', ANSIBLE_NOCOLOR: '1', ANSIBLE_ROLES_PATH: join(p.kubespray, 'roles') };
  let inventory = 'localhost,';
  if (p.inventory) writeFileSync((inventory = join(dir, `${name}.inventory.yml`)), yaml.dump(p.inventory));
  const args = ['-i', inventory, '-c', 'local', ...p.extraVarFiles.flatMap((f) => ['-e', `@${f}`]), file];
  try {
    return (await run('ansible-playbook', args, { env, cwd: dir, maxBuffer: 1 << 26 })).stdout;
  } catch (err: any) {
    throw new Error(`ansible-playbook ${name} failed:\n${String(err.stdout ?? '').slice(-4000)}\n${String(err.stderr ?? '').slice(-2000)}`);
  }
}
