import { homedir, userInfo } from 'node:os';
import type { InventoryHost, InventoryValue } from './inventory.js';
import { connectSsh, type HostKeyPolicy } from './ssh.js';
import { LocalSession } from './local.js';
import type { NodeSession } from './session.js';

/** How to reach and become root on one inventory host, from Ansible's connection variables. */
export interface NodeTarget {
  name: string;
  local: boolean;
  host: string;
  port: number;
  user: string;
  password?: string;
  privateKeyFile?: string;
  become: boolean;
  becomeUser: string;
  becomePassword?: string;
  /** The `ip` var (the address the cluster uses), else the host address. */
  ip: string;
}

const str = (v: InventoryValue | undefined): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** Ansible's boolean: yes/true/on/1 in any case. */
export function truthy(v: InventoryValue | undefined): boolean {
  return v === true || v === 1 || (typeof v === 'string' && /^(yes|true|on|1|y)$/i.test(v.trim()));
}

/** `{{ ansible_env.HOME }}` and `~` at the start of a path are the only templates resolved (on the taskbox). */
export function expandHome(path: string, home = homedir()): string {
  return path.replace(/^\{\{\s*ansible_env\.HOME\s*\}\}/, home).replace(/^~(?=\/|$)/, home);
}

export function nodeTarget(h: InventoryHost): NodeTarget {
  const v = h.vars;
  const host = str(v['ansible_host']) ?? h.name;
  const key = str(v['ansible_ssh_private_key_file']) ?? str(v['ansible_private_key_file']);
  const t: NodeTarget = {
    name: h.name,
    local: str(v['ansible_connection']) === 'local',
    host,
    port: Number(v['ansible_port'] ?? v['ansible_ssh_port'] ?? 22),
    user: str(v['ansible_user']) ?? str(v['ansible_ssh_user']) ?? userInfo().username,
    become: truthy(v['ansible_become']),
    becomeUser: str(v['ansible_become_user']) ?? 'root',
    ip: str(v['ip']) ?? host,
  };
  const password = str(v['ansible_password']) ?? str(v['ansible_ssh_pass']);
  if (password !== undefined) t.password = password;
  if (key !== undefined) t.privateKeyFile = expandHome(key);
  const bp = str(v['ansible_become_pass']) ?? str(v['ansible_become_password']) ?? str(v['ansible_sudo_pass']);
  if (bp !== undefined) t.becomePassword = bp;
  return t;
}

/** A session on the host: local for `ansible_connection=local`, SSH otherwise. */
export async function openSession(t: NodeTarget, opts: { hostKeys: HostKeyPolicy; readyTimeoutMs?: number }): Promise<NodeSession> {
  if (t.local) return new LocalSession(t.name, { user: t.becomeUser, password: t.becomePassword });
  return connectSsh(
    {
      name: t.name, host: t.host, port: t.port, user: t.user, password: t.password, privateKeyFile: t.privateKeyFile,
      becomeUser: t.becomeUser, becomePassword: t.becomePassword,
    },
    opts,
  );
}
