/**
 * OpenPGP for apt (openpgp v6): verify upstream InRelease / Release.gpg against a keyring, and generate, load and
 * sign with the bundle's own key. Signatures are made deterministic (fixed date, no salt notation) so the same
 * lock and key give byte-identical InRelease/Release.gpg.
 */
import * as openpgp from 'openpgp';

export class SignatureError extends Error {}

/** A keyring file: binary (`gpg --export`, possibly several concatenated keys) or ASCII-armored. */
export async function readKeyring(bytes: Uint8Array): Promise<openpgp.Key[]> {
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1');
  if (head.includes('-----BEGIN PGP')) return openpgp.readKeys({ armoredKeys: Buffer.from(bytes).toString('utf8') });
  return openpgp.readKeys({ binaryKeys: bytes });
}

/**
 * Verify a cleartext-signed InRelease. Returns the signed text (what the caller may trust) and the signing key ids.
 * At least one signature must come from a key of the keyring and verify; signatures by keys we do not hold are
 * ignored (Debian signs with two keys at once), but a bad signature by a key we hold fails.
 */
export async function verifyInRelease(armored: string, keys: openpgp.Key[], date?: Date): Promise<{ text: string; keyIds: string[] }> {
  let message: openpgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: armored });
  } catch (err) {
    throw new SignatureError(`not a cleartext-signed message: ${(err as Error).message}`);
  }
  const result = await openpgp.verify({ message, verificationKeys: keys, date, expectSigned: false });
  const keyIds = await checkSignatures(result.signatures, keys);
  return { text: result.data as string, keyIds };
}

/** Verify Release against a detached Release.gpg (armored or binary). */
export async function verifyDetached(release: Uint8Array, signature: Uint8Array, keys: openpgp.Key[], date?: Date): Promise<{ keyIds: string[] }> {
  const text = Buffer.from(signature.subarray(0, 64)).toString('latin1');
  const sig = text.includes('-----BEGIN PGP')
    ? await openpgp.readSignature({ armoredSignature: Buffer.from(signature).toString('utf8') })
    : await openpgp.readSignature({ binarySignature: signature });
  const message = await openpgp.createMessage({ binary: release });
  const result = await openpgp.verify({ message, signature: sig, verificationKeys: keys, date, format: 'binary' });
  return { keyIds: await checkSignatures(result.signatures, keys) };
}

async function checkSignatures(sigs: openpgp.VerifyMessageResult["signatures"], keys: openpgp.Key[]): Promise<string[]> {
  const known = new Set<string>();
  for (const k of keys) for (const id of k.getKeyIDs()) known.add(id.toHex());
  const good: string[] = [];
  const problems: string[] = [];
  for (const s of sigs) {
    const id = s.keyID.toHex();
    try {
      await s.verified;
      good.push(id);
    } catch (err) {
      if (known.has(id)) problems.push(`${id}: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new SignatureError(`bad signature: ${problems.join('; ')}`);
  if (!good.length) {
    const ids = sigs.map((s) => s.keyID.toHex()).join(', ') || 'none';
    throw new SignatureError(`no signature by a key of the keyring (signed by: ${ids})`);
  }
  return good;
}

export interface SigningKey {
  privateKey: openpgp.PrivateKey;
  /** Binary public key, for `signed-by=`. */
  publicBinary: Uint8Array;
  fingerprint: string;
  created: Date;
}

/** Deterministic signatures: EdDSA is deterministic once openpgp's random salt notation is off. */
const DETERMINISTIC: openpgp.PartialConfig = { nonDeterministicSignaturesViaNotation: false };

/**
 * A new signing key (ed25519, v4: what gpgv in apt accepts). `created` is fixed by the caller so that signatures
 * dated with the upstream Release date are never older than the key.
 */
export async function generateSigningKey(name: string, created: Date): Promise<string> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name, email: 'apt@ks-bundle.invalid' }],
    date: created,
    keyExpirationTime: 0,
    format: 'armored',
  });
  return privateKey;
}

export async function loadSigningKey(bytes: Uint8Array): Promise<SigningKey> {
  const text = Buffer.from(bytes.subarray(0, 64)).toString('latin1');
  const privateKey = text.includes('-----BEGIN PGP')
    ? await openpgp.readPrivateKey({ armoredKey: Buffer.from(bytes).toString('utf8') })
    : await openpgp.readPrivateKey({ binaryKey: bytes });
  if (!privateKey.isDecrypted()) throw new SignatureError('the apt signing key is passphrase-protected; give an unprotected key');
  return {
    privateKey,
    publicBinary: privateKey.toPublic().write(),
    fingerprint: privateKey.getFingerprint().toUpperCase(),
    created: privateKey.getCreationTime(),
  };
}

/** Signature time: the repo's fixed date, but never before the key existed (openpgp refuses that). */
function signingDate(key: SigningKey, date: Date): Date {
  return date.getTime() < key.created.getTime() ? key.created : date;
}

export async function signCleartext(text: string, key: SigningKey, date: Date): Promise<string> {
  const message = await openpgp.createCleartextMessage({ text });
  return openpgp.sign({ message, signingKeys: key.privateKey, date: signingDate(key, date), config: DETERMINISTIC });
}

export async function signDetachedArmored(data: Uint8Array, key: SigningKey, date: Date): Promise<string> {
  const message = await openpgp.createMessage({ binary: data });
  return openpgp.sign({ message, signingKeys: key.privateKey, detached: true, date: signingDate(key, date), config: DETERMINISTIC });
}
