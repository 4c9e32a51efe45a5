import { homedir, userInfo } from 'node:os';
import type { InventoryHost, InventoryValue } from './inventory.js';
import { connectionVar, type ConnectionSetting } from './connection-vars.js';
import { connectSsh, type HostKeyPolicy } from './ssh.js';
import { LocalSession } from './local.js';
import type { NodeSession } from './session.js';

/** How to reach and become root on one inventory host, from Ansible's connection variables (connection-vars.ts). */
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
  const get = (setting: ConnectionSetting) => str(connectionVar(v, setting)?.value);
  const host = get('host') ?? h.name;
  const t: NodeTarget = {
    name: h.name,
    local: str(v['ansible_connection']) === 'local',
    host,
    port: Number(get('port') ?? 22),
    user: get('user') ?? userInfo().username,
    become: truthy(v['ansible_become']),
    becomeUser: get('becomeUser') ?? 'root',
    ip: str(v['ip']) ?? host,
  };
  const password = get('password');
  if (password !== undefined) t.password = password;
  const key = get('privateKeyFile');
  if (key !== undefined) t.privateKeyFile = expandHome(key);
  const bp = get('becomePassword');
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
