import { Command } from 'commander';
import { NotImplementedError } from '../errors.js';

export function nodesCommand(): Command {
  const nodes = new Command('nodes').description('Work on the nodes of an inventory');
  nodes
    .command('restore')
    .description('Put back every file the installer changed on the nodes (from its backups)')
    .requiredOption('-i, --inventory <file>', 'the Ansible INI inventory', 'conf/hosts.ini')
    .addHelpText('after', '\nExample:\n  ks-bundle nodes restore -i conf/hosts.ini')
    .action(async () => {
      throw new NotImplementedError('nodes restore');
    });
  return nodes;
}
