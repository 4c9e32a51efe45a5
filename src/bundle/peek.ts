import { readTar } from './tar-reader.js';
import { tarStream } from './read.js';
import type { ByteSource } from '../parts/source.js';

/** Files peeked at are small text (bundle.yaml, the lock); anything larger is not what a bundle puts there. */
const MAX_PEEK_BYTES = 64 << 20;

class Found extends Error {}

/**
 * Read a few small files (bundle.yaml, the lock) out of a bundle tarball without reading the rest: the writer puts
 * them first, so a tarball is read only until they are found. Nothing is verified here; a corrupt archive throws
 * (TarFormatError, or zlib's error), it never reads as "not there".
 */
export async function peekTar(source: ByteSource, names: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  try {
    await readTar(await tarStream(source, source.chunks()), (entry) => {
      const rel = entry.path.split('/').slice(1).join('/');
      if (!names.includes(rel) || found.has(rel) || entry.kind !== 'file' || entry.size > MAX_PEEK_BYTES) return undefined;
      const chunks: Buffer[] = [];
      return {
        write: (chunk) => void chunks.push(Buffer.from(chunk)),
        end: () => {
          found.set(rel, Buffer.concat(chunks).toString('utf8'));
          if (found.size === names.length) throw new Found();
        },
      };
    });
  } catch (err) {
    if (!(err instanceof Found)) throw err;
  } finally {
    source.stop();
  }
  return found;
}
