import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { Header, Pax } from 'tar';
import { FIXED_MTIME } from './layout.js';
import { READ_CHUNK } from '../store/chunked-read.js';

export interface TarItem {
  /** Full archive path, including the top folder. Folders end with '/'. */
  path: string;
  type: 'File' | 'Directory';
  mode: number;
  size: number;
  file?: string;
  data?: Buffer;
}

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

/**
 * An entry's header blocks, deterministic: fixed mtime, uid/gid 0, no user names. node-tar encodes the ustar header,
 * and a PAX record before it when the path is too long for ustar.
 */
export function encodeHead(item: TarItem): Buffer {
  const header = Buffer.alloc(BLOCK);
  const needPax = new Header({
    path: item.path,
    mode: item.mode,
    size: item.type === 'File' ? item.size : 0,
    mtime: FIXED_MTIME,
    type: item.type,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
  }).encode(header, 0);
  return needPax ? Buffer.concat([new Pax({ path: item.path }, false).encode(), header]) : header;
}

/** Zero bytes that bring a body of `size` bytes to a whole block. */
export function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
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
    await write(encodeHead(item));
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
    if (written !== item.size) throw new Error(`${item.file ?? item.path}: expected ${item.size} bytes, read ${written} (did the file change during the build?)`);
    const pad = paddingFor(written);
    if (pad) await write(END_OF_ARCHIVE.subarray(0, pad));
  }
  await write(END_OF_ARCHIVE);
}
