import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { IntegrityError, InputError } from '../errors.js';
import { PARTS_SUFFIX, isPartsFile } from '../parts/parts-file.js';
import type { SignatureCheck } from './detached.js';

/** A signature file is a few hundred bytes. */
const MAX_SIGNATURE = 64 << 10;

/**
 * Where a bundle's signature is: `B.asc` beside the tarball B; for a split bundle, beside `B.parts` (the signature
 * `sign B` wrote before the split covers the parts' concatenation, which is B).
 */
export function signatureFileOf(bundle: string): string {
  return (isPartsFile(bundle) ? bundle.slice(0, -PARTS_SUFFIX.length) : bundle) + '.asc';
}

/**
 * Get ready to check the signature of the tarball (or .parts) `bundle` with `keyFile` while its bytes stream past
 * for the checksums. A missing signature is an integrity failure: a site that asks for one gets no unsigned bundle.
 */
export async function bundleSignatureCheck(bundle: string, keyFile: string): Promise<SignatureCheck> {
  if ((await stat(bundle).catch(() => undefined))?.isDirectory()) {
    throw new InputError(`${bundle}: an unpacked folder has no signature to check`, { hint: 'The signature covers the tarball: give the .tar (or its .parts) with --key.' });
  }
  // OpenPGP (a megabyte of code to load) only when a signature is asked for: a plain verify starts without it.
  const [{ readVerifyingKey }, { createSignatureCheck }] = await Promise.all([import('./keys.js'), import('./detached.js')]);
  const key = await readVerifyingKey(keyFile);
  const sigFile = signatureFileOf(bundle);
  let text: Buffer;
  try {
    const st = await stat(sigFile);
    if (st.size > MAX_SIGNATURE) throw new IntegrityError(`${sigFile}: ${st.size} bytes is too big for a signature`);
    text = await readFile(sigFile);
  } catch (err) {
    if (err instanceof IntegrityError) throw err;
    throw new IntegrityError(`${bundle}: not signed: no ${basename(sigFile)} beside it`, {
      hint: `A signed bundle comes with ${basename(sigFile)} (ks-bundle sign, or gpg --detach-sign --armor); copy it beside the bundle. Nothing was installed.`,
    });
  }
  return createSignatureCheck(text, sigFile, key, keyFile);
}
