import { Command } from 'commander';
import { NotImplementedError } from '../errors.js';

export function installCommand(): Command {
  return new Command('install')
    .description('Install the cluster from a bundle on the taskbox, entirely offline')
    .argument('[bundle]', 'the unpacked bundle folder or its tarball', '.')
    .option('--offline', 'use only the bundle (the only mode)')
    .addHelpText('after', '\nExample:\n  bin/ks-bundle install --offline . -i conf/hosts.ini -c conf/vars.yml --mode multi-node --yes')
    .action(async () => {
      throw new NotImplementedError('install');
    });
}
