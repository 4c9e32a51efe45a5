import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { Header, Pax } from 'tar';
import { FIXED_MTIME } from './layout.js';
import { READ_CHUNK } from '../store/hashing.js';

export interface TarItem {
  /** Full archive path, including the top folder. Folders end with '/'. */
  path: string;
  type: 'File' | 'Directory';
  mode: number;
  size: number;
  file?: string;
  data?: Buffer;
}

const BLOCK = 512;
const ZEROS = Buffer.alloc(BLOCK * 2);

/**
 * A deterministic ustar writer: fixed mtime, uid/gid 0, no user names, the order it is given. node-tar encodes the
 * headers (and PAX records for long names); file bodies stream straight from disk with 1 MiB reads, so packing runs
 * at disk speed and memory stays flat.
 */
export class TarWriter {
  bytes = 0;

  constructor(private readonly out: Writable) {}

  async add(item: TarItem, onBytes?: (n: number) => void): Promise<void> {
    const fields = {
      path: item.path,
      mode: item.mode,
      size: item.type === 'File' ? item.size : 0,
      mtime: FIXED_MTIME,
      type: item.type,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
    };
    const header = Buffer.alloc(BLOCK);
    const needPax = new Header(fields).encode(header, 0);
    if (needPax) await this.write(new Pax({ path: item.path }, false).encode());
    await this.write(header);
    if (item.type !== 'File') return;
    let written = 0;
    if (item.data) {
      await this.write(item.data);
      written = item.data.length;
    } else if (item.file) {
      for await (const chunk of createReadStream(item.file, { highWaterMark: READ_CHUNK })) {
        await this.write(chunk as Buffer);
        written += (chunk as Buffer).length;
        onBytes?.((chunk as Buffer).length);
      }
    }
    if (written !== item.size) throw new Error(`${item.path}: expected ${item.size} bytes, read ${written} (did the file change during the build?)`);
    const pad = (BLOCK - (written % BLOCK)) % BLOCK;
    if (pad) await this.write(ZEROS.subarray(0, pad));
  }

  async finish(): Promise<void> {
    await this.write(ZEROS);
  }

  private async write(buf: Buffer): Promise<void> {
    this.bytes += buf.length;
    if (!this.out.write(buf)) await once(this.out, 'drain');
  }
}
