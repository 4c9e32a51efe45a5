import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseContentRange } from '../../../src/pip/remote-zip.js';
import { listZip, wheelMetadata, type ByteSource } from '../../../src/pip/zip.js';

const SAMPLES = join(import.meta.dirname, 'samples');
// A real wheel (repacked from Debian's python3-markupsafe, with its .so) and its METADATA as `unzip -p` prints it.
const WHEEL = readFileSync(join(SAMPLES, 'MarkupSafe-2.1.2-cp311-cp311-manylinux_2_36_x86_64.whl'));
const METADATA = readFileSync(join(SAMPLES, 'MarkupSafe-2.1.2.METADATA'));

/** The archive as a remote reader sees it: every read recorded. */
function source(bytes: Buffer): ByteSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return {
    size: bytes.length,
    reads,
    read: async (position, length) => {
      reads.push([position, length]);
      return bytes.subarray(position, position + length);
    },
  };
}

/** The same zip with a comment of `n` bytes after its end record (what pushes the record out of a short tail). */
function withComment(zip: Buffer, n: number): Buffer {
  const out = Buffer.concat([zip, Buffer.alloc(n, 0x20)]);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  out.writeUInt16LE(n, eocd + 20);
  return out;
}

describe('wheel METADATA through ranges', () => {
  it('reads METADATA as unzip does, in a few reads of the tail and the member, not the whole wheel', async () => {
    const src = source(WHEEL);
    expect((await wheelMetadata(src, 'MarkupSafe')).equals(METADATA)).toBe(true);
    // The end of the archive, its central directory, then the member: three reads, not the whole wheel.
    expect(src.reads.length).toBe(3);
    const entries = await listZip(source(WHEEL));
    const meta = entries.find((e) => e.name === 'MarkupSafe-2.1.2.dist-info/METADATA')!;
    expect(src.reads[2]![0]).toBe(meta.localHeaderOffset);
    expect(src.reads.reduce((n, [, len]) => n + len, 0)).toBeLessThan(WHEEL.length * 0.6);
  });

  it('finds the end record behind a long comment with one more read', async () => {
    const src = source(withComment(WHEEL, 6000));
    expect((await wheelMetadata(src, 'MarkupSafe')).equals(METADATA)).toBe(true);
  });

  it('refuses a truncated archive and an absurd central directory, naming the problem', async () => {
    await expect(wheelMetadata(source(WHEEL.subarray(0, WHEEL.length - 30)), 'MarkupSafe')).rejects.toThrow(/no end of central directory|unexpected end/);
    const huge = Buffer.from(WHEEL);
    const eocd = huge.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    huge.writeUInt32LE(0x7fffffff, eocd + 12);
    await expect(wheelMetadata(source(huge), 'MarkupSafe')).rejects.toThrow(/central directory of \d+ bytes: too large/);
  });
});

describe('parseContentRange', () => {
  it('reads start, end and total; refuses what is not a satisfiable byte range', () => {
    expect(parseContentRange('bytes 9846-9861/9862')).toEqual({ start: 9846, end: 9861, total: 9862 });
    expect(parseContentRange('bytes 0-0/1')).toEqual({ start: 0, end: 0, total: 1 });
    for (const bad of [undefined, '', 'bytes */9862', 'bytes 10-5/20', 'bytes 0-20/20', 'items 0-1/2']) expect(parseContentRange(bad), String(bad)).toBeUndefined();
  });
});
