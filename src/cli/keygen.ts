import { Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { generateSigningKeys } from '../signature/keys.js';
import { deprecatedAlias } from './options.js';

export function keygenCommand(): Command {
  const cmd = new Command('keygen')
    .description('Make an OpenPGP key pair for signing bundles: DIR/private.asc (unencrypted, mode 0600) and DIR/public.asc')
    .requiredOption('-o, --output <dir>', 'the folder to write private.asc and public.asc into');
  return deprecatedAlias(cmd, 'out', 'output')
    .option('--name <name>', "the key's user name", 'ks-bundle signing key')
    .option('--email <email>', "the key's e-mail address")
    .addHelpText(
      'after',
      '\nThe private key has no passphrase (a scripted build could not type one): keep it on the signing machine or in\n' +
        'a secrets store. Give public.asc to the sites; gpg reads both files.\n' +
        '\nExample:\n  ks-bundle keygen -o keys/\n  ks-bundle sign bundles/demo-0.1.0.tar --key keys/private.asc',
    )
    .action(async (o: { output: string; name: string; email?: string }) => {
      const keys = await generateSigningKeys({ name: o.name, email: o.email });
      await mkdir(o.output, { recursive: true });
      const priv = join(o.output, 'private.asc');
      const pub = join(o.output, 'public.asc');
      // `wx`: an existing key is never overwritten (bundles signed with it would no longer verify against a new one).
      for (const [file, text, mode] of [[priv, keys.privateArmored, 0o600], [pub, keys.publicArmored, 0o644]] as const) {
        await writeFile(file, text, { flag: 'wx', mode }).catch((err) => {
          if (err.code === 'EEXIST') throw new InputError(`${file} exists; not overwritten`, { hint: 'Choose another --output folder, or move the old keys away first.' });
          throw err;
        });
      }
      process.stdout.write(`fingerprint  ${keys.fingerprint}\n`);
      process.stdout.write(`${priv}  the private key, UNENCRYPTED (no passphrase), mode 0600: keep it on the signing machine\n`);
      process.stdout.write(`${pub}  the public key: give it to the sites (verify --key, install --offline --key)\n`);
    });
}
