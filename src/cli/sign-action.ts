import { integrityError } from '../bundle/verify.js';
import { openByteSource } from '../parts/source.js';
import { signatureFileOf } from '../signature/bundle-signature.js';
import { createSigner } from '../signature/detached.js';
import { readSigningKey } from '../signature/keys.js';
import { writeFileAtomic } from '../store/atomic.js';
import { InputError } from '../errors.js';
import { stat } from 'node:fs/promises';
import { hashFile } from '../store/hashing.js';

/** `ks-bundle sign`, its command line parsed (cli/sign.ts). */
export async function signAction(bundle: string, o: { key: string }): Promise<void> {
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
}
