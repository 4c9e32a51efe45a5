/**
 * The smallest zip reader a wheel needs: read the central directory from the end of the archive, then one entry's
 * bytes, reading only the byte ranges involved from a `ByteSource` (a file handle here; HTTP Range requests for a
 * wheel still upstream). Never reads the whole archive into memory.
 */
import { open } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

/** Random access to an archive's bytes. */
export interface ByteSource {
  size: number;
  /** Exactly `length` bytes at `position`, or a failure. */
  read(position: number, length: number): Promise<Buffer>;
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
/** An entry we are willing to inflate into memory: metadata files are kilobytes. */
const MAX_ENTRY = 16 << 20;

async function readAt(src: ByteSource, position: number, length: number): Promise<Buffer> {
  if (position < 0 || position + length > src.size) throw new Error(`unexpected end of zip at ${Math.min(Math.max(position, 0), src.size)}`);
  return src.read(position, length);
}

/** The end record is 22 bytes plus a comment of at most 65535; wheels carry no comment, so a short tail is tried first. */
const SHORT_TAIL = 22 + 4096;
const LONG_TAIL = 22 + 0xffff;

function findEocd(tail: Buffer): number {
  for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD_SIG) return i;
  return -1;
}

export async function listZip(src: ByteSource): Promise<ZipEntry[]> {
  const size = src.size;
  let tailLen = Math.min(size, SHORT_TAIL);
  let tail = await readAt(src, size - tailLen, tailLen);
  let eocd = findEocd(tail);
  if (eocd < 0 && tailLen < Math.min(size, LONG_TAIL)) {
    tailLen = Math.min(size, LONG_TAIL);
    tail = await readAt(src, size - tailLen, tailLen);
    eocd = findEocd(tail);
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if ((cdOffset === 0xffffffff || count === 0xffff) && eocd >= 20 && tail.readUInt32LE(eocd - 20) === ZIP64_LOCATOR_SIG) {
    const z64 = await readAt(src, Number(tail.readBigUInt64LE(eocd - 20 + 8)), 56);
    if (z64.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw new Error('bad zip64 end record');
    count = Number(z64.readBigUInt64LE(32));
    cdSize = Number(z64.readBigUInt64LE(40));
    cdOffset = Number(z64.readBigUInt64LE(48));
  }
  // A central directory lists names and offsets only: a wheel's is kilobytes, a hostile one is refused.
  if (cdSize > MAX_ENTRY) throw new Error(`central directory of ${cdSize} bytes: too large`);
  const cd = await readAt(src, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (cd.readUInt32LE(p) !== CDH_SIG) throw new Error('bad central directory entry');
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let uncompressed = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // Zip64 extended information: the fields that overflowed, in this order.
    for (let e = p + 46 + nameLen; e < p + 46 + nameLen + extraLen; ) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (uncompressed === 0xffffffff) (uncompressed = Number(cd.readBigUInt64LE(q))), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = Number(cd.readBigUInt64LE(q))), (q += 8);
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = Number(cd.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    entries.push({ name, method, compressedSize, size: uncompressed, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

export async function readZipEntry(src: ByteSource, entry: ZipEntry): Promise<Buffer> {
  if (entry.size > MAX_ENTRY || entry.compressedSize > MAX_ENTRY) throw new Error(`${entry.name}: too large to read into memory`);
  // The local header, its name and extra field, and the data in one read (one request when the source is remote);
  // a local extra field larger than guessed costs a second read.
  const guess = Math.min(src.size - entry.localHeaderOffset, 30 + Buffer.byteLength(entry.name) + 512 + entry.compressedSize);
  if (guess < 30) throw new Error(`${entry.name}: bad local header offset ${entry.localHeaderOffset}`);
  const head = await readAt(src, entry.localHeaderOffset, guess);
  if (head.readUInt32LE(0) !== LFH_SIG) throw new Error(`${entry.name}: bad local header`);
  const dataStart = 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
  const raw = dataStart + entry.compressedSize <= head.length ? head.subarray(dataStart, dataStart + entry.compressedSize) : await readAt(src, entry.localHeaderOffset + dataStart, entry.compressedSize);
  if (entry.method === 0) return raw;
  if (entry.method === 8) return inflateRawSync(raw, { maxOutputLength: MAX_ENTRY });
  throw new Error(`${entry.name}: unsupported compression method ${entry.method}`);
}

/**
 * The wheel's `<name>-<version>.dist-info/METADATA`. A wheel holds exactly one top-level .dist-info directory;
 * when several look plausible we prefer the one named after the wheel's own distribution.
 */
export async function wheelMetadata(src: ByteSource, distribution: string): Promise<Buffer> {
  const entries = (await listZip(src)).filter((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
  const want = distribution.toLowerCase().replace(/[-_.]+/g, '_');
  const entry = entries.find((e) => e.name.split('-')[0]!.toLowerCase().replace(/[-_.]+/g, '_') === want) ?? entries[0];
  if (!entry) throw new Error('no .dist-info/METADATA inside');
  return readZipEntry(src, entry);
}

/** `wheelMetadata` of a wheel on disk. */
export async function readWheelMetadata(file: string, distribution: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const src: ByteSource = {
      size,
      read: async (position, length) => {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, position);
        if (bytesRead !== length) throw new Error(`unexpected end of zip at ${position + bytesRead}`);
        return buf;
      },
    };
    return await wheelMetadata(src, distribution);
  } finally {
    await fh.close();
  }
}
