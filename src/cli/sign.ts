import { Command } from 'commander';

export function signCommand(): Command {
  return new Command('sign')
    .description('Write BUNDLE.asc: a detached, ASCII-armored OpenPGP signature over the bundle tarball (gpg --verify reads it)')
    .argument('<bundle>', 'a bundle .tar or .tar.gz (or the .parts file of a split one)')
    .requiredOption('--key <private.asc>', 'the private key (ks-bundle keygen)')
    .addHelpText('after', '\nExample:\n  ks-bundle sign bundles/demo-0.1.0.tar --key keys/private.asc\n  gpg --verify bundles/demo-0.1.0.tar.asc bundles/demo-0.1.0.tar')
    .action(async (bundle: string, o: { key: string }) => (await import('./sign-action.js')).signAction(bundle, o));
}
