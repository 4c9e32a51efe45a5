import { Command, Option } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { generateSigningKeys } from '../signature/keys.js';

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
    .action(async (o: { out: string; name: string; email?: string }) => {
      const keys = await generateSigningKeys({ name: o.name, email: o.email });
      await mkdir(o.out, { recursive: true });
      const priv = join(o.out, 'private.asc');
      const pub = join(o.out, 'public.asc');
      // `wx`: an existing key is never overwritten (bundles signed with it would no longer verify against a new one).
      for (const [file, text, mode] of [[priv, keys.privateArmored, 0o600], [pub, keys.publicArmored, 0o644]] as const) {
        await writeFile(file, text, { flag: 'wx', mode }).catch((err) => {
          if (err.code === 'EEXIST') throw new InputError(`${file} exists; not overwritten`, { hint: 'Choose another --out folder, or move the old keys away first.' });
          throw err;
        });
      }
      process.stdout.write(`fingerprint  ${keys.fingerprint}\n`);
      process.stdout.write(`${priv}  the private key, UNENCRYPTED (no passphrase), mode 0600: keep it on the signing machine\n`);
      process.stdout.write(`${pub}  the public key: give it to the sites (verify --key, install --offline --key)\n`);
    });
}
