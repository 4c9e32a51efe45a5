/**
 * Bodies larger than the mirror's reads, served by the real CLI to many curl clients at once: more downloads than
 * the shared large buffers hold, ranges across read edges, and clients that hang up mid-body. Every client must get
 * its own file's bytes, whatever the others do (the buffers are shared by every download of the process).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTools } from '../support/tools.js';
import { serveCli, writeTestMeta, type ServedCli } from './support.js';

const run = promisify(execFile);
const MiB = 1 << 20;
// Three files that differ from the first byte, of sizes off any power of two: a mix-up of buffers shows in the hash.
const FILES = { a: randomBytes(9 * MiB + 12345), b: randomBytes(13 * MiB + 7), c: randomBytes(5 * MiB - 3) };
let tmp: string;
let served: ServedCli;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const url = (name: string) => `${served.url}/files/${name}`;
/** The sha256 of what curl got, by sha256sum. */
const pulled = async (name: string) => (await run('sh', ['-c', `curl -sSf '${url(name)}' | sha256sum`])).stdout.slice(0, 64);

beforeAll(async () => {
  requireTools('curl', 'sha256sum', 'head');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-large-'));
  const bundle = join(tmp, 'bundle');
  mkdirSync(join(bundle, 'repos/files'), { recursive: true });
  writeTestMeta(bundle, 'large');
  for (const [name, bytes] of Object.entries(FILES)) writeFileSync(join(bundle, 'repos/files', name), bytes);
  served = await serveCli([bundle, '--no-verify', '--listen', '127.0.0.1', '--port', '0']);
});

afterAll(async () => {
  await served?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('large bodies to many clients', () => {
  it('18 downloads at once of three files each get their own file, byte for byte', async () => {
    const names = Array.from({ length: 18 }, (_, i) => (['a', 'b', 'c'] as const)[i % 3]);
    const got = await Promise.all(names.map((n) => pulled(n)));
    expect(got).toEqual(names.map((n) => sha256(FILES[n])));
  });

  it('ranges across the 1 MiB and 4 MiB read edges are the bytes the file holds', async () => {
    const bytes = FILES.b;
    const get = async (range: string) => (await run('curl', ['-sSf', '-r', range, url('b')], { encoding: 'buffer', maxBuffer: 64 * MiB })).stdout as unknown as Buffer;
    for (const [from, to] of [
      [4 * MiB - 10, 4 * MiB + 2000],
      [MiB - 1, 9 * MiB + 1],
      [8 * MiB, bytes.length - 1],
      [3, 12 * MiB],
    ] as const) {
      expect((await get(`${from}-${to}`)).equals(bytes.subarray(from, to + 1)), `${from}-${to}`).toBe(true);
    }
    expect((await get(`${8 * MiB - 5}-`)).equals(bytes.subarray(8 * MiB - 5))).toBe(true);
  });

  it('clients that hang up mid-body leave the others whole, and the next downloads too', async () => {
    const quitters = Array.from({ length: 12 }, (_, i) =>
      // head reads a little and exits; curl then fails writing and closes the connection mid-body.
      run('sh', ['-c', `curl -s '${url(i % 2 ? 'a' : 'b')}' | head -c ${100_000 * (i + 1)} | wc -c`]).then((r) => Number(r.stdout.trim())),
    );
    const whole = Array.from({ length: 6 }, (_, i) => pulled(i % 2 ? 'c' : 'a'));
    expect(await Promise.all(quitters)).toEqual(Array.from({ length: 12 }, (_, i) => 100_000 * (i + 1)));
    expect(await Promise.all(whole)).toEqual(Array.from({ length: 6 }, (_, i) => sha256(FILES[i % 2 ? 'c' : 'a'])));
    const after = await Promise.all((['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b'] as const).map((n) => pulled(n)));
    expect(after).toEqual((['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b'] as const).map((n) => sha256(FILES[n])));
    const log = served.stderr();
    expect(log).not.toMatch(/error/i);
  });
});
