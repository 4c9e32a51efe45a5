import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { InputError } from '../errors.js';

/** A key file is a few kilobytes; a bigger one is not a key, and is not read into memory. */
const MAX_KEY_FILE = 1 << 20;

export interface GeneratedKeys {
  privateArmored: string;
  publicArmored: string;
  fingerprint: string;
}

/**
 * A new signing key (Ed25519, the OpenPGP v4 format gpg 2.2 reads), unencrypted: it is meant for a signing machine
 * or a secrets store that guards it, and a passphrase prompt would stop every scripted build.
 */
export async function generateSigningKeys(userId: { name: string; email?: string }): Promise<GeneratedKeys> {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [userId], format: 'armored' });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { privateArmored: privateKey, publicArmored: publicKey, fingerprint: key.getFingerprint().toUpperCase() };
}

async function readKeyText(file: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    throw new InputError(`${file}: no such key file`, { hint: 'ks-bundle keygen --out DIR writes private.asc and public.asc.' });
  }
  if (buf.length > MAX_KEY_FILE) throw new InputError(`${file}: ${buf.length} bytes is too big for an OpenPGP key`);
  return buf.toString('latin1');
}

/** An armored or binary OpenPGP key that can check signatures (a public key; a private one works too). */
export async function readVerifyingKey(file: string): Promise<openpgp.Key> {
  const text = await readKeyText(file);
  try {
    return text.includes('-----BEGIN PGP')
      ? await openpgp.readKey({ armoredKey: text })
      : await openpgp.readKey({ binaryKey: new Uint8Array(Buffer.from(text, 'latin1')) });
  } catch (err: any) {
    throw new InputError(`${file}: not an OpenPGP key (${err.message})`, { hint: 'Give the public.asc that keygen wrote, or `gpg --armor --export KEYID`.' });
  }
}

export async function readSigningKey(file: string): Promise<openpgp.PrivateKey> {
  const text = await readKeyText(file);
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: text });
  } catch (err: any) {
    throw new InputError(`${file}: not an armored OpenPGP private key (${err.message})`, { hint: 'Give the private.asc that keygen wrote.' });
  }
  if (!key.isDecrypted()) {
    throw new InputError(`${file}: the private key is protected by a passphrase`, {
      hint: 'Sign with gpg instead (gpg --detach-sign --armor BUNDLE), or export the key without a passphrase for a guarded signing machine.',
    });
  }
  return key;
}
