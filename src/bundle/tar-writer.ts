import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { KsBundleError } from '../errors.js';
import { FIXED_MTIME } from './layout.js';
import { READ_CHUNK } from '../store/chunked-read.js';
import { END_OF_ARCHIVE, encodeHead, paddingFor } from './tar-header.js';

export interface TarItem {
  /** Full archive path, including the top folder. Folders end with '/'. */
  path: string;
  type: 'File' | 'Directory';
  mode: number;
  size: number;
  file?: string;
  data?: Buffer;
  /** The file's sha256, as the build knows it: with it, a packed tarball's digest can be remembered. */
  sha256?: string;
}

/** An item's header blocks, with the fixed metadata every bundle gets, so the same lock gives the same bytes. */
export function itemHead(item: TarItem): Buffer {
  return encodeHead({ path: item.path, type: item.type, mode: item.mode, size: item.size, mtime: FIXED_MTIME });
}

/** A source file that is not the size the build recorded: it changed between download and packing. */
export function changedDuringBuild(file: string, detail: string): KsBundleError {
  return new KsBundleError('FAILED', `${file}: ${detail} (did it change during the build?)`, {
    hint: 'Something else is writing to the cache; run the build again once it is done.',
  });
}

/**
 * Write the archive to a stream (the gzip path), in the order given. File bodies go in as fresh buffers, since a
 * stream may keep what it is given; memory stays flat through the stream's backpressure.
 */
export async function writeTarStream(out: Writable, items: TarItem[], onBytes?: (n: number) => void): Promise<void> {
  const write = async (buf: Buffer) => {
    if (!out.write(buf)) await once(out, 'drain');
  };
  for (const item of items) {
    await write(itemHead(item));
    if (item.type !== 'File') continue;
    let written = 0;
    if (item.data) {
      await write(item.data);
      written = item.data.length;
    } else if (item.file) {
      for await (const chunk of createReadStream(item.file, { highWaterMark: READ_CHUNK })) {
        await write(chunk as Buffer);
        written += (chunk as Buffer).length;
        onBytes?.((chunk as Buffer).length);
      }
    }
    if (written !== item.size) throw changedDuringBuild(item.file ?? item.path, `expected ${item.size} bytes, read ${written}`);
    const pad = paddingFor(written);
    if (pad) await write(END_OF_ARCHIVE.subarray(0, pad));
  }
  await write(END_OF_ARCHIVE);
}
