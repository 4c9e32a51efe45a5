import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOCK, END_OF_ARCHIVE, TarFormatError, decodeHeader, encodeHead, paddingFor, parsePaxRecords, paxRecord } from '../../../src/bundle/tar-header.js';
import { readTar, type TarEntryInfo } from '../../../src/bundle/tar-reader.js';

const SAMPLES = join(__dirname, 'samples');
const NAMES = readFileSync(join(SAMPLES, 'names.list'), 'utf8').trim().split('\n');
const MTIME = new Date('2000-01-01T00:00:00Z');

/** Every entry readTar reports, with its body, from bytes handed over in odd-sized chunks. */
async function entries(bytes: Buffer, chunk = 700): Promise<Array<TarEntryInfo & { body: string }>> {
  const out: Array<TarEntryInfo & { body: string }> = [];
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  }
  await readTar(chunks(), (e) => {
    const parts: Buffer[] = [];
    return { write: (c) => void parts.push(Buffer.from(c)), end: () => void out.push({ ...e, body: Buffer.concat(parts).toString() }) };
  });
  return out;
}

/** The type letters of an archive's header blocks, walked by their own sizes. */
function typeflags(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + BLOCK <= bytes.length && bytes[at] !== 0; ) {
    const h = decodeHeader(bytes.subarray(at, at + BLOCK));
    out.push(h.typeflag);
    at += BLOCK + h.size + paddingFor(h.size);
  }
  return out;
}

const file = (path: string, body: string) => {
  const data = Buffer.from(body);
  return Buffer.concat([encodeHead({ path, type: 'File', mode: 0o644, size: data.length, mtime: MTIME }), data, Buffer.alloc(paddingFor(data.length))]);
};

describe('reading what GNU tar writes', () => {
  it.each([
    ['gnu', 'L'],
    ['posix', 'x'],
    ['ustar', undefined],
  ])('%s format: the names `tar -tf` lists, with the bodies', async (format, longNameHeader) => {
    const bytes = readFileSync(join(SAMPLES, `${format}.tar`));
    if (longNameHeader) expect(typeflags(bytes)).toContain(longNameHeader);
    const got = await entries(bytes);
    expect(got.map((e) => e.path)).toEqual(NAMES);
    expect(got.map((e) => e.kind)).toEqual(NAMES.map((n) => (n.endsWith('/') ? 'directory' : 'file')));
    expect(got.find((e) => e.path.endsWith('file-with-a-long-name.txt'))!.body).toBe('hello\n');
    expect(got.find((e) => e.path === 'top/short.txt')!.body).toBe('x');
  });
});

describe('encodeHead', () => {
  it('a short path is one ustar block with the fields given', () => {
    const head = encodeHead({ path: 'top/a.bin', type: 'File', mode: 0o755, size: 1234, mtime: MTIME });
    expect(head.length).toBe(BLOCK);
    expect(decodeHeader(head)).toEqual({ name: 'top/a.bin', linkname: '', typeflag: '0', mode: 0o755, size: 1234, format: 'posix' });
  });

  it('a long or non-ASCII path goes into a PAX record that the reader applies', async () => {
    const long = `top/${'deep/'.repeat(30)}file`;
    for (const path of [long, 'top/ünïcode.txt']) {
      expect(typeflags(encodeHead({ path, type: 'File', mode: 0o644, size: 0, mtime: MTIME }))).toEqual(['x', '0']);
      const got = await entries(Buffer.concat([file(path, 'body'), END_OF_ARCHIVE]), 100);
      expect(got).toEqual([expect.objectContaining({ path, kind: 'file', body: 'body' })]);
    }
  });

  it('a size past 8 GiB is written base-256 and read back', () => {
    const size = 9 * 2 ** 30 + 7;
    expect(decodeHeader(encodeHead({ path: 'top/big', type: 'File', mode: 0o644, size, mtime: MTIME })).size).toBe(size);
  });
});

describe('PAX records', () => {
  it('each record starts with its own length, across digit boundaries', () => {
    for (let n = 1; n < 1100; n += 7) {
      const rec = paxRecord('path', 'a'.repeat(n));
      expect(Number(rec.toString().split(' ')[0])).toBe(rec.length);
      expect(parsePaxRecords(rec).get('path')).toBe('a'.repeat(n));
    }
  });

  it('a record whose length does not add up, a key given twice, or a value not UTF-8 is refused', () => {
    expect(() => parsePaxRecords(Buffer.from('99 path=x\n'))).toThrow(TarFormatError);
    expect(() => parsePaxRecords(Buffer.concat([paxRecord('path', 'a'), paxRecord('path', 'b')]))).toThrow(/given twice/);
    expect(() => parsePaxRecords(Buffer.from([...Buffer.from('11 path='), 0xff, 0xfe, 0x0a]))).toThrow(/not UTF-8/);
  });
});

describe('decodeHeader', () => {
  it('refuses a block whose checksum does not match', () => {
    const head = encodeHead({ path: 'top/a', type: 'File', mode: 0o644, size: 1, mtime: MTIME });
    head[0] = 'u'.charCodeAt(0);
    expect(() => decodeHeader(head)).toThrow(/checksum mismatch/);
  });
});
