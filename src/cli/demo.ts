import { Command } from 'commander';
import { NotImplementedError } from '../errors.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('Show the whole flow on this machine with local upstreams (needs root for the sandbox nodes)')
    .addHelpText('after', '\nExample:\n  sudo npm run demo')
    .action(async () => {
      throw new NotImplementedError('demo');
    });
}
