import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile, open, unlink, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { serveCli } from '../mirror/support.js';
import { buildOneFileBundle } from '../support/one-file-bundle.js';
import { requireTools } from '../support/tools.js';

let dir: string;
let bundle: string;

beforeAll(async () => {
  requireTools('tar', 'sha256sum', 'split', 'cmp', 'cat');
  dir = await mkdtemp(join(tmpdir(), 'ksb-split-'));
  bundle = join(dir, 'out', 's.tar');
  await buildOneFileBundle(dir, { name: 's', bytes: 3_000_000, out: bundle });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh copy of the bundle in its own folder, split with `size`. */
async function splitCopy(name: string, size: string): Promise<{ dir: string; tar: string; parts: string[] }> {
  const d = join(dir, name);
  await mkdir(d);
  const tar = join(d, 's.tar');
  await copyFile(bundle, tar);
  const r = await runCli(['split', tar, '--size', size]);
  expect(r.code, r.stderr).toBe(0);
  const parts = (await readdir(d)).filter((n) => /\.part\d+$/.test(n)).sort();
  return { dir: d, tar, parts };
}

describe('split', () => {
  it('cuts at exactly the bytes coreutils split -b cuts at, and cat of the parts is the bundle', async () => {
    const s = await splitCopy('k', '700K');
    const oracle = join(dir, 'oracle');
    await mkdir(oracle);
    execFileSync('split', ['-b', '700K', '--numeric-suffixes=1', '-a', '3', s.tar, join(oracle, 's.tar.part')]);
    expect(s.parts).toEqual((await readdir(oracle)).sort());
    expect(s.parts.length).toBeGreaterThan(10);
    for (const p of s.parts) execFileSync('cmp', [join(s.dir, p), join(oracle, p)]);
    execFileSync('sh', ['-c', `cat ${s.parts.join(' ')} > joined`], { cwd: s.dir });
    execFileSync('cmp', [join(s.dir, 'joined'), s.tar]);
    const out = execFileSync('sha256sum', ['-c', 's.tar.parts'], { cwd: s.dir, encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(s.parts.map((p) => `${p}: OK`));
  });

  it('reads M and G as powers of 1024 (a size larger than the bundle gives one part)', async () => {
    const s = await splitCopy('g', '1G');
    expect(s.parts).toEqual(['s.tar.part001']);
    execFileSync('cmp', [join(s.dir, 's.tar.part001'), s.tar]);
    const m = await splitCopy('m', '1M');
    const oracle = join(dir, 'oracle-m');
    await mkdir(oracle);
    execFileSync('split', ['-b', '1M', '--numeric-suffixes=1', '-a', '3', m.tar, join(oracle, 's.tar.part')]);
    for (const p of m.parts) execFileSync('cmp', [join(m.dir, p), join(oracle, p)]);
    expect(m.parts).toEqual((await readdir(oracle)).sort());
  });

  it('refuses a size it cannot read, exit 2', async () => {
    for (const bad of ['0', '10MB', '-5M', 'lots']) {
      const r = await runCli(['split', bundle, '--size', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/size/);
    }
  });
});

describe('verify a split bundle', () => {
  it('verify BUNDLE.parts reads the parts in order and passes', async () => {
    const s = await splitCopy('v', '512K');
    await unlink(s.tar);
    const r = await runCli(['verify', join(s.dir, 's.tar.parts')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ok\s+every file matches/);
  });

  it('a missing part is exit 3 naming the part', async () => {
    const s = await splitCopy('miss', '512K');
    await unlink(s.tar);
    await unlink(join(s.dir, s.parts[2]!));
    const r = await runCli(['verify', join(s.dir, 's.tar.parts')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${join(s.dir, s.parts[2]!)} (part 3 of ${s.parts.length})`);
  });

  it('a damaged part is exit 3 naming the part, whether the byte lands in a file or in the trailing padding', async () => {
    const s = await splitCopy('flip', '512K');
    // A byte inside a file's body (part 2) and one inside the last part (the archive's end).
    for (const [p, at] of [[s.parts[1]!, 4096], [s.parts.at(-1)!, -1]] as const) {
      const fh = await open(join(s.dir, p), 'r+');
      const size = (await fh.stat()).size;
      const pos = at < 0 ? size - 1 : at;
      const b = Buffer.alloc(1);
      await fh.read(b, 0, 1, pos);
      b[0] = b[0]! ^ 0xff;
      await fh.write(b, 0, 1, pos);
      await fh.close();
    }
    const check = execFileSync('sh', ['-c', 'sha256sum -c s.tar.parts 2>&1 || true'], { cwd: s.dir, encoding: 'utf8' });
    expect(check).toContain(`${s.parts[1]}: FAILED`);
    const r = await runCli(['verify', join(s.dir, 's.tar.parts')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${join(s.dir, s.parts[1]!)}: part 2 of ${s.parts.length} is damaged`);
    expect(r.stderr).toContain(`${join(s.dir, s.parts.at(-1)!)}: part ${s.parts.length} of ${s.parts.length} is damaged`);
  });

  it('a .parts file naming a path outside its folder is refused before anything is opened, exit 3 with the line', async () => {
    const d = join(dir, 'evil');
    await mkdir(d);
    await writeFile(join(d, 'x.tar.parts'), `${'0'.repeat(64)}  x.tar.part001\n${'1'.repeat(64)}  ../../etc/passwd\n`);
    const r = await runCli(['verify', join(d, 'x.tar.parts')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${join(d, 'x.tar.parts')}:2:`);
  });

  it('serve BUNDLE.parts unpacks from the parts and serves the files: curl gets the bytes the bundle holds', async () => {
    const s = await splitCopy('serve', '512K');
    await unlink(s.tar);
    const dataDir = join(s.dir, 'data');
    const m = await serveCli([join(s.dir, 's.tar.parts'), '--listen', '127.0.0.1', '--port', '0', '--data-dir', dataDir]);
    try {
      execFileSync('curl', ['-sf', '-o', join(s.dir, 'a.got'), `${m.url}/files/a.bin`]);
      execFileSync('cmp', [join(s.dir, 'a.got'), join(dir, 'up', 'a.bin')]);
    } finally {
      await m.stop();
    }
  });
});
