import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkThread } from '../../src/store/sink-thread.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';

let dir: string;
beforeAll(async () => {
  requireTools('sha256sum', 'openssl');
  dir = await mkdtemp(join(tmpdir(), 'ksb-sink-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Feed `data` in uneven chunks, as sockets deliver them. */
async function feed(file: ReturnType<SinkThread['openFile']>, data: Buffer, seed: number): Promise<void> {
  for (let o = 0, i = seed; o < data.length; i++) {
    const n = [65536, 1, 3 << 20, 16384, 700_001][i % 5]!;
    await file.write(data.subarray(o, o + n));
    o += n;
  }
}

describe('the download thread', () => {
  const shared = new SinkThread();
  afterAll(() => shared.stop());
  it('writes and hashes several files fed at once, each far larger than its ring, byte for byte', async () => {
    const sink = new SinkThread();
    const blobs = [randomBytes(40 << 20), randomBytes(23 << 20), randomBytes(5)];
    const results = await Promise.all(
      blobs.map(async (data, i) => {
        const file = sink.openFile(join(dir, `f${i}`), { append: false, algorithms: ['sha256'] });
        await feed(file, data, i);
        return file.close();
      }),
    );
    for (const [i, data] of blobs.entries()) {
      expect(results[i]!.size).toBe(data.length);
      expect((await readFile(join(dir, `f${i}`))).equals(data)).toBe(true);
      expect(results[i]!.digests[0]).toBe(sha256sum(join(dir, `f${i}`)));
    }
  });

  it('continues a partial file: the digest covers what was there, and a second algorithm is given in its encoding', async () => {
    const head = randomBytes(3 << 20);
    const tail = randomBytes(2 << 20);
    const path = join(dir, 'partial');
    await writeFile(path, head);
    const file = shared.openFile(path, { append: true, algorithms: ['sha256', 'sha512'], encodings: ['hex', 'base64'] });
    await feed(file, tail, 2);
    const r = await file.close();
    expect(r.size).toBe(head.length + tail.length);
    expect(r.digests[0]).toBe(sha256sum(path));
    expect(r.digests[1]).toBe(execFileSync('sh', ['-c', `openssl dgst -sha512 -binary '${path}' | base64 -w0`], { encoding: 'utf8' }));
  });

  it('a file it cannot create fails at close, naming the path, and other files go on', async () => {
    const bad = shared.openFile(join(dir, 'no-such-dir', 'x'), { append: false, algorithms: ['sha256'] });
    const good = shared.openFile(join(dir, 'ok'), { append: false, algorithms: ['sha256'] });
    await bad.write(randomBytes(1000));
    await good.write(Buffer.from('hello\n'));
    await expect(bad.close()).rejects.toThrow(/no-such-dir/);
    expect((await good.close()).digests[0]).toBe(sha256sum(join(dir, 'ok')));
  });
});
