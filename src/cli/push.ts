import { Command } from 'commander';
import { defaultDataDir, positiveInt } from './options.js';

export function pushCommand(): Command {
  return new Command('push')
    .description("Copy a bundle's images into an existing registry (Harbor, distribution), digests unchanged; a rerun sends nothing twice")
    .argument('<bundle>', 'a bundle .tar, .tar.gz, or an unpacked folder')
    .requiredOption('--registry <host[:port][/prefix]>', 'the target registry')
    .option('--registry-auth <file>', 'credentials in docker config.json format (also read: ~/.docker/config.json)')
    .option('--insecure', 'the registry speaks plain HTTP')
    .option('--ca <file>', "PEM file of the private CA that signed the registry's certificate (trusted besides the system CAs)")
    .option('--concurrency <n>', 'parallel blob uploads', positiveInt, 4)
    .option('--data-dir <dir>', 'where a tarball is unpacked first', defaultDataDir())
    .option('--json', 'progress as JSON lines')
    .addHelpText('after', '\nExample:\n  ks-bundle push bundles/demo-0.1.0.tar --registry harbor.example.local/library')
    .action(async (bundle: string, o) => (await import('./push-action.js')).pushAction(bundle, o));
}
