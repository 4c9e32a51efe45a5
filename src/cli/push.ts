import { Command } from 'commander';
import { NotImplementedError } from '../errors.js';

export function pushCommand(): Command {
  return new Command('push')
    .description("Copy a bundle's images into an existing registry (Harbor, distribution), digests unchanged")
    .argument('<bundle>', 'a bundle .tar or unpacked folder')
    .requiredOption('--registry <host[:port][/prefix]>', 'the target registry')
    .addHelpText('after', '\nExample:\n  ks-bundle push bundles/demo-0.1.0.tar --registry harbor.example.local/library')
    .action(async () => {
      throw new NotImplementedError('push');
    });
}
