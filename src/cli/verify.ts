import { Command } from 'commander';

export function verifyCommand(): Command {
  return new Command('verify')
    .description('Check every byte of a bundle against its SHA256SUMS without unpacking it (exit 3 on any problem)')
    .argument('<bundle>', 'a bundle .tar, .tar.gz, its .parts file (a split bundle), or an unpacked bundle folder')
    .option('--allow-missing', 'only warn when the install would ask for an image or file the bundle lacks')
    .option('--key <public.asc>', "check BUNDLE.asc (beside the tarball or its .parts) with this key, in the same read; exit 3 if missing, another key's or not matching")
    .option('--json', 'the report as JSON')
    .addHelpText('after', '\nExamples:\n  ks-bundle verify bundles/demo-0.1.0.tar\n  ks-bundle verify bundles/demo-0.1.0.tar.parts --key vendor-public.asc')
    .action(async (bundle: string, o) => (await import('./verify-action.js')).verifyAction(bundle, o));
}
