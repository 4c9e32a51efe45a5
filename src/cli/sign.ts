import { Command } from 'commander';
import { integrityError } from '../bundle/verify.js';
import { openByteSource } from '../parts/source.js';
import { signatureFileOf } from '../signature/bundle-signature.js';
import { createSigner } from '../signature/detached.js';
import { readSigningKey } from '../signature/keys.js';
import { writeFileAtomic } from '../store/atomic.js';
import { InputError } from '../errors.js';
import { stat } from 'node:fs/promises';
import { hashFile } from '../store/hashing.js';

export function signCommand(): Command {
  return new Command('sign')
    .description('Write BUNDLE.asc: a detached, ASCII-armored OpenPGP signature over the bundle tarball (gpg --verify reads it)')
    .argument('<bundle>', 'a bundle .tar or .tar.gz (or the .parts file of a split one)')
    .requiredOption('--key <private.asc>', 'the private key (ks-bundle keygen)')
    .addHelpText('after', '\nExample:\n  ks-bundle sign bundles/demo-0.1.0.tar --key keys/private.asc\n  gpg --verify bundles/demo-0.1.0.tar.asc bundles/demo-0.1.0.tar')
    .action(async (bundle: string, o: { key: string }) => {
      const st = await stat(bundle).catch(() => undefined);
      if (!st) throw new InputError(`${bundle}: no such bundle`);
      if (st.isDirectory()) throw new InputError(`${bundle}: an unpacked folder cannot be signed`, { hint: 'The signature covers the tarball: sign the .tar.' });
      const signer = createSigner(await readSigningKey(o.key), o.key);
      const source = await openByteSource(bundle);
      for await (const chunk of source.chunks()) signer.update(chunk);
      // A split bundle's parts are checked against its .parts file before their bytes are signed.
      const damaged = await source.damagedParts(hashFile);
      if (damaged.length) throw integrityError(bundle, damaged);
      const out = signatureFileOf(bundle);
      await writeFileAtomic(out, await signer.finish());
      process.stdout.write(`${out}  detached signature over ${source.bundlePath}; check it with: gpg --verify ${out} ${source.bundlePath}\n`);
    });
}
