/**
 * The bundle's apt signing key: the one the manifest names (`apt.signingKey`), or one generated once and kept in
 * the build cache (`<store>/keys/`) so that rebuilding from the same lock signs with the same key.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { generateSigningKey, loadSigningKey, type SigningKey } from './pgp.js';

export const GENERATED_KEY_FILE = 'apt-signing-key.asc';
/** Creation time of generated keys: fixed and old, so any upstream Release date can date the signatures. */
const GENERATED_KEY_DATE = new Date('2020-01-01T00:00:00Z');

export async function bundleSigningKey(opts: { storeRoot: string; signingKey?: string }): Promise<SigningKey> {
  if (opts.signingKey) {
    let bytes: Buffer;
    try {
      bytes = await readFile(opts.signingKey);
    } catch (err) {
      throw new InputError(`apt.signingKey: cannot read ${opts.signingKey}: ${(err as Error).message}`);
    }
    return loadSigningKey(bytes);
  }
  const path = join(opts.storeRoot, 'keys', GENERATED_KEY_FILE);
  try {
    return await loadSigningKey(await readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const armored = await generateSigningKey('ks-bundle apt repository', GENERATED_KEY_DATE);
  await writeFileAtomic(path, armored, 0o600);
  return loadSigningKey(Buffer.from(armored));
}
