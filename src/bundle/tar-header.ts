/**
 * The tar format's blocks, shared by the reader, the stream writer and the packing thread: a ustar header (POSIX
 * 1003.1-1988) with a PAX extended header before it when a path does not fit, 512-byte padding, two zero blocks at
 * the end. Decoding keeps the raw fields; what they mean together (PAX and GNU long names over the ustar name) is
 * the reader's. Pure.
 */

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(BLOCK * 2);

/** Zero bytes that bring a body of `size` bytes to a whole block. */
export function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export class TarFormatError extends Error {}

/** One entry as the writers lay it out: the path includes the top folder; folders end with '/'. */
export interface HeadFields {
  path: string;
  type: 'File' | 'Directory';
  mode: number;
  size: number;
  mtime: Date;
}

const NAME = [0, 100] as const;
const MODE = [100, 8] as const;
const UID = [108, 8] as const;
const GID = [116, 8] as const;
const SIZE = [124, 12] as const;
const MTIME = [136, 12] as const;
const CHKSUM = [148, 8] as const;
const TYPEFLAG = 156;
const LINKNAME = [157, 100] as const;
const MAGIC = [257, 8] as const;
const PREFIX = [345, 155] as const;

const POSIX_MAGIC = Buffer.from('ustar\x0000', 'latin1');
const GNU_MAGIC = Buffer.from('ustar  \x00', 'latin1');

/**
 * An entry's header blocks, deterministic: uid/gid 0, no user names, the given mtime. A path longer than the ustar
 * name field, or not ASCII, goes into a PAX record before the header (as GNU tar and Python write it), and the
 * header's own name field holds its last 100 bytes' worth of ASCII for tools that ignore PAX.
 */
export function encodeHead(item: HeadFields): Buffer {
  const size = item.type === 'File' ? item.size : 0;
  const fits = /^[\x20-\x7e]*$/.test(item.path) && item.path.length <= 100;
  const header = ustar({ name: fits ? item.path : fallbackName(item.path), mode: item.mode, size, mtime: item.mtime, typeflag: item.type === 'File' ? '0' : '5' });
  if (fits) return header;
  const records = paxRecord('path', item.path);
  const pax = ustar({ name: 'PaxHeader', mode: 0o644, size: records.length, mtime: item.mtime, typeflag: 'x' });
  return Buffer.concat([pax, records, Buffer.alloc(paddingFor(records.length)), header]);
}

function fallbackName(path: string): string {
  const ascii = path.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= 100 ? ascii : ascii.slice(-100);
}

function ustar(f: { name: string; mode: number; size: number; mtime: Date; typeflag: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, NAME[0], NAME[1], 'latin1');
  octal(b, MODE, f.mode & 0o7777);
  octal(b, UID, 0);
  octal(b, GID, 0);
  number(b, SIZE, f.size);
  octal(b, MTIME, Math.floor(f.mtime.getTime() / 1000));
  b.write(f.typeflag, TYPEFLAG, 1, 'latin1');
  POSIX_MAGIC.copy(b, MAGIC[0]);
  // The checksum is taken with its own field as spaces, then written as six octal digits, NUL, space.
  b.fill(0x20, CHKSUM[0], CHKSUM[0] + CHKSUM[1]);
  b.write(sum(b).toString(8).padStart(6, '0') + '\x00 ', CHKSUM[0], CHKSUM[1], 'latin1');
  return b;
}

/** `len key=value\n`, where len counts the whole record, its own digits included. */
export function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.byteLength(` ${key}=${value}\n`);
  let len = body + 1;
  while (body + String(len).length !== len) len = body + String(len).length;
  return Buffer.from(`${len} ${key}=${value}\n`);
}

function octal(b: Buffer, [off, len]: readonly [number, number], n: number): void {
  b.write(n.toString(8).padStart(len - 1, '0') + '\x00', off, len, 'latin1');
}

/** Sizes past 8 GiB - 1 do not fit 11 octal digits: GNU's base-256 form, which GNU tar, node-tar and Python read. */
function number(b: Buffer, field: readonly [number, number], n: number): void {
  if (n < 8 ** (field[1] - 1)) return octal(b, field, n);
  const [off, len] = field;
  let v = BigInt(n);
  for (let i = off + len - 1; i > off; i--, v >>= 8n) b[i] = Number(v & 0xffn);
  b[off] = 0x80;
}

function sum(block: Buffer): number {
  let s = 0;
  for (let i = 0; i < BLOCK; i++) s += block[i]!;
  return s;
}

/** The fields of one header block as written, before any PAX or GNU long name is applied. */
export interface RawHeader {
  /** ustar: prefix + '/' + name; GNU and v7: name alone. Undefined when the bytes are not UTF-8. */
  name: string | undefined;
  linkname: string | undefined;
  typeflag: string;
  mode: number;
  size: number;
  format: 'posix' | 'gnu' | 'v7';
}

export function isZeroBlock(block: Buffer): boolean {
  return block.length >= BLOCK && allZeros(block.subarray(0, BLOCK));
}

const ZEROS = Buffer.alloc(64 << 10);

/** Every byte is 0 (padding, the archive's tail): compared a slice at a time, at memcmp's speed. */
export function allZeros(bytes: Buffer): boolean {
  for (let o = 0; o < bytes.length; o += ZEROS.length) {
    const n = Math.min(ZEROS.length, bytes.length - o);
    if (!bytes.subarray(o, o + n).equals(ZEROS.subarray(0, n))) return false;
  }
  return true;
}

/**
 * Decode one header block. Throws TarFormatError on a checksum that matches neither the unsigned nor the signed
 * sum (GNU tar accepts both) and on a numeric field GNU tar would not read.
 */
export function decodeHeader(block: Buffer): RawHeader {
  const stored = parseOctal(block, CHKSUM, 'checksum');
  const spaced = Buffer.from(block);
  spaced.fill(0x20, CHKSUM[0], CHKSUM[0] + CHKSUM[1]);
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) signed += spaced[i]! > 127 ? spaced[i]! - 256 : spaced[i]!;
  if (stored !== sum(spaced) && stored !== signed) throw new TarFormatError('checksum mismatch');
  const magic = block.subarray(MAGIC[0], MAGIC[0] + MAGIC[1]);
  const format = magic.equals(POSIX_MAGIC) ? 'posix' : magic.equals(GNU_MAGIC) ? 'gnu' : 'v7';
  const name = cString(block, NAME);
  const prefix = format === 'posix' ? cString(block, PREFIX) : '';
  return {
    name: name === undefined || prefix === undefined ? undefined : prefix ? `${prefix}/${name}` : name,
    linkname: cString(block, LINKNAME),
    typeflag: String.fromCharCode(block[TYPEFLAG]!),
    mode: parseNumber(block, MODE, 'mode'),
    size: parseNumber(block, SIZE, 'size'),
    format,
  };
}

/** A NUL-terminated (or full-width) field, as the C string GNU tar reads; undefined when it is not UTF-8. */
function cString(b: Buffer, [off, len]: readonly [number, number]): string | undefined {
  const field = b.subarray(off, off + len);
  const end = field.indexOf(0);
  return utf8(end < 0 ? field : field.subarray(0, end));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as UTF-8, or undefined: a name that is not would be read one way here and written another way by GNU tar. */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function parseNumber(b: Buffer, field: readonly [number, number], what: string): number {
  const [off, len] = field;
  if (b[off]! & 0x80) {
    if (b[off] === 0xff) throw new TarFormatError(`negative ${what}`);
    let v = BigInt(b[off]! & 0x7f);
    for (let i = off + 1; i < off + len; i++) v = (v << 8n) | BigInt(b[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError(`${what} too large`);
    return Number(v);
  }
  return parseOctal(b, field, what);
}

/** Octal digits, with leading spaces and a trailing run of NULs or spaces, as GNU tar reads them. */
function parseOctal(b: Buffer, [off, len]: readonly [number, number], what: string): number {
  const text = b.toString('latin1', off, off + len);
  const m = /^ *([0-7]*)[ \x00]*$/.exec(text);
  if (!m || m[1] === '') throw new TarFormatError(`${what} field is not an octal number`);
  return parseInt(m[1]!, 8);
}

/**
 * The records of a PAX extended header body (`len key=value\n` each), by key. Throws TarFormatError on a record
 * whose length does not add up, on a key given twice, and on a value that is not UTF-8.
 */
export function parsePaxRecords(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < body.length) {
    // GNU tar stops at NUL padding after the last record.
    if (body[pos] === 0) {
      if (body.subarray(pos).some((c) => c !== 0)) throw new TarFormatError('PAX header: data after its NUL padding');
      break;
    }
    const space = body.indexOf(0x20, pos);
    const digits = space < 0 ? '' : body.toString('latin1', pos, space);
    if (!/^[1-9][0-9]{0,9}$/.test(digits)) throw new TarFormatError(`PAX header: a record at byte ${pos} has no length`);
    const end = pos + Number(digits);
    if (end > body.length || body[end - 1] !== 0x0a) throw new TarFormatError(`PAX header: a record at byte ${pos} does not end where its length says`);
    const record = body.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError(`PAX header: a record at byte ${pos} is not key=value`);
    const key = utf8(record.subarray(0, eq));
    const value = utf8(record.subarray(eq + 1));
    if (key === undefined || value === undefined) throw new TarFormatError(`PAX header: a record at byte ${pos} is not UTF-8`);
    if (out.has(key)) throw new TarFormatError(`PAX header: "${key}" is given twice`);
    out.set(key, value);
    pos = end;
  }
  return out;
}
