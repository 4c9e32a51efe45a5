import { Command } from 'commander';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('What is inside a bundle: counts and sizes per kind, and every artifact with its version and digest')
    .argument('<bundle>', 'a bundle .tar, .tar.gz, or an unpacked bundle folder')
    .option('--json', 'as JSON')
    .addHelpText('after', '\nExample:\n  ks-bundle inspect bundles/demo-0.1.0.tar --json')
    .action(async (bundle: string, o) => (await import('./inspect-action.js')).inspectAction(bundle, o));
}
