import { createHash, type Hash } from 'node:crypto';
export { createHash };
import { createReadStream } from 'node:fs';

/** 1 MiB reads: hashing a file streams at ~1 GB/s with it against ~0.6 GB/s with Node's 64 KiB default. */
export const READ_CHUNK = 1 << 20;

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function newSha256(): Hash {
  return createHash('sha256');
}

/**
 * Hash a file in one streaming pass; optionally feed the same bytes to `into` and `also` (to continue a partial
 * download whose digests are still being computed).
 */
export async function hashFile(path: string, into: Hash = newSha256(), ...also: Hash[]): Promise<{ sha256: string; size: number }> {
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) {
    into.update(chunk as Buffer);
    for (const h of also) h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: into.copy().digest('hex'), size };
}

/** A Subresource Integrity value (`sha512-<base64>`), as the npm registry publishes. */
export function parseIntegrity(sri: string): { algorithm: string; digest: string } {
  const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/=]+)$/.exec(sri.trim());
  if (!m) throw new Error(`not an integrity value: ${sri}`);
  return { algorithm: m[1]!, digest: m[2]! };
}

export function sha256OfString(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
