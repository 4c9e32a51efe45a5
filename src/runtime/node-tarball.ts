import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { openFile } from '../parts/source.js';
import { readTar, TarFormatError } from '../bundle/tar-reader.js';
import { decompressStream } from '../util/decompress.js';
import { READ_CHUNK } from '../store/chunked-read.js';
import type { BuildContext } from '../collector/context.js';
import { InputError, KsBundleError } from '../errors.js';

class Found extends Error {}

/**
 * Take `bin/node` out of a Node.js release tarball (.tar.gz, .tar.xz or plain), streaming it into the store, with the
 * bundle's own tar reader: the names it sees are the ones GNU tar would extract, and reading stops at bin/node.
 */
export async function binFromTarball(ctx: BuildContext, tarball: string, what: string): Promise<{ path: string; size: number; sha256: string }> {
  const magic = await (await openFile(tarball)).head(6);
  const codec = magic[0] === 0x1f && magic[1] === 0x8b ? 'gz' : magic.equals(XZ_MAGIC) ? 'xz' : 'none';
  let found: Promise<{ path: string; size: number; sha256: string }> | undefined;
  try {
    await readTar(decompressStream(createReadStream(tarball, { highWaterMark: READ_CHUNK }), codec), (entry) => {
      if (found || entry.kind !== 'file' || !/(^|\/)bin\/node$/.test(entry.path)) return undefined;
      const body = new PassThrough({ highWaterMark: READ_CHUNK });
      const stored = ctx.store.put(body, {}, `${what} bin/node`);
      found = stored;
      return {
        // The reader reuses its chunk once this returns, and the stream keeps what it is given: a copy goes in.
        write: async (chunk) => {
          if (!body.write(Buffer.from(chunk))) await Promise.race([once(body, 'drain'), stored]);
        },
        end: async () => {
          body.end();
          await stored;
          throw new Found();
        },
      };
    });
  } catch (err) {
    if (!(err instanceof Found)) {
      if (err instanceof TarFormatError || (err as NodeJS.ErrnoException).code?.startsWith('Z_')) {
        // Its bytes are the ones pinned (checked on the way in): the pin names something that is not a release tarball.
        throw new InputError(`${what}: not a readable tar archive (${(err as Error).message})`, {
          cause: err,
          hint: 'A pinned runtime URL is a Node.js release tarball (.tar.gz or .tar.xz) or the node binary itself.',
        });
      }
      throw err;
    }
  }
  if (!found) throw new KsBundleError('FAILED', `${what}: no bin/node in the archive`);
  return found;
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
