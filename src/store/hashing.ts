import { createHash, type Hash } from 'node:crypto';
import { readChunks } from './chunked-read.js';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function newSha256(): Hash {
  return createHash('sha256');
}

/** Hash a file in one streaming pass. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = newSha256();
  let size = 0;
  for await (const chunk of readChunks(path)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
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

/** One running hash, wherever it runs. */
export interface StreamHash {
  /** Add bytes; the chunk may be reused once this returns (or the promise it returns resolves). */
  update(chunk: Uint8Array): void | Promise<void>;
  digest(): Promise<Buffer>;
}

/** Makes running hashes: on this thread (`hashHere`), or on hashing threads (`HashThreads`). */
export interface Hasher {
  hash(algorithm: string): StreamHash;
}

/** Hashes on the calling thread, for reads too small to be worth a thread. */
export const hashHere: Hasher = {
  hash(algorithm) {
    const h = createHash(algorithm);
    return {
      update: (chunk) => void h.update(chunk),
      digest: async () => h.digest(),
    };
  },
};
