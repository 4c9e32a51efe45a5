import { Command } from 'commander';

export function nodesCommand(): Command {
  const nodes = new Command('nodes').description('Work on the nodes of an inventory');
  nodes
    .command('restore')
    .description('Put back every file the installer changed on the nodes, byte for byte, from its backups, and remove the empty folders it made')
    .option('-i, --inventory <file>', 'the Ansible INI inventory', 'conf/hosts.ini')
    .option('--known-hosts <file>', 'SSH known_hosts (default: ~/.ssh/known_hosts)')
    .addHelpText('after', '\nExample:\n  ks-bundle nodes restore -i conf/hosts.ini')
    .action(async (o) => (await import('./nodes-action.js')).restoreAction(o));
  return nodes;
}
