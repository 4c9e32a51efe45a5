import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { generateSigningKeys } from '../signature/keys.js';

/** `ks-bundle keygen`, its command line parsed (cli/keygen.ts). */
export async function keygenAction(o: { out: string; name: string; email?: string }): Promise<void> {
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
}
