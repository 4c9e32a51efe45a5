import type { InventoryValue, Vars } from './inventory.js';

/**
 * Which inventory variable sets each connection setting, as ansible-core 2.14 resolves it: the `vars:` list of the
 * option in the ssh connection plugin and the sudo become plugin, where the LAST name that is defined (and not None)
 * wins (ConfigManager._loop_entries). So `ansible_ssh_host` beats `ansible_host`, whichever of host, group or `all`
 * vars they come from. Pure data, checked against ansible's own connection attempts in the tests.
 */
export const CONNECTION_VARS = {
  host: ['ansible_host', 'ansible_ssh_host'],
  port: ['ansible_port', 'ansible_ssh_port'],
  user: ['ansible_user', 'ansible_ssh_user'],
  password: ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'],
  privateKeyFile: ['ansible_private_key_file', 'ansible_ssh_private_key_file'],
  becomeUser: ['ansible_become_user', 'ansible_sudo_user'],
  becomePassword: ['ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass'],
} as const;

export type ConnectionSetting = keyof typeof CONNECTION_VARS;

/** The value Ansible uses for one setting, and the variable it came from; undefined when none is set. */
export function connectionVar(vars: Vars, setting: ConnectionSetting): { name: string; value: InventoryValue } | undefined {
  let found: { name: string; value: InventoryValue } | undefined;
  for (const name of CONNECTION_VARS[setting]) {
    const value = vars[name];
    if (value !== undefined && value !== null) found = { name, value };
  }
  return found;
}
