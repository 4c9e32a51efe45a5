import { Command, Option } from 'commander';

export function keygenCommand(): Command {
  const cmd = new Command('keygen')
    .description('Make an OpenPGP key pair for signing bundles: DIR/private.asc (unencrypted, mode 0600) and DIR/public.asc')
    .requiredOption('-o, --out <dir>', 'the folder to write private.asc and public.asc into')
    // --output is what build and sbom call their -o; here it means the same folder, so both spellings work.
    .addOption(new Option('--output <dir>').hideHelp())
    .on('option:output', (dir: string) => cmd.setOptionValueWithSource('out', dir, 'cli'));
  return cmd
    .option('--name <name>', "the key's user name", 'ks-bundle signing key')
    .option('--email <email>', "the key's e-mail address")
    .addHelpText(
      'after',
      '\nThe private key has no passphrase (a scripted build could not type one): keep it on the signing machine or in\n' +
        'a secrets store. Give public.asc to the sites; gpg reads both files.\n' +
        '\nExample:\n  ks-bundle keygen --out keys/\n  ks-bundle sign bundles/demo-0.1.0.tar --key keys/private.asc',
    )
    .action(async (o: { out: string; name: string; email?: string }) => (await import('./keygen-action.js')).keygenAction(o));
}
