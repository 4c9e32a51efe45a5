import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startGuardedUpstream, type GuardedUpstream } from '../support/guarded-upstream.js';
import { manifestHead } from '../support/manifest-head.js';

let dir: string;
let up: GuardedUpstream;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every path under `root`, relative, folders with a trailing slash. */
async function listing(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true }).catch(() => [])) {
    const rel = relative(root, join(e.parentPath, e.name));
    out.push(e.isDirectory() ? rel + '/' : rel);
  }
  return out.sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ksb-cli-build-'));
  up = await startGuardedUpstream();
});

afterAll(async () => {
  await up?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ks-bundle build, interrupted', () => {
  it('Ctrl-C mid-download exits 130 saying so, and leaves no temp file or work folder in the cache or the output folder', async () => {
    const slow = randomBytes(8 << 20);
    up.files.set('/slow.bin', { body: slow, guard: 'open' });
    up.setDribble(64 << 10);
    const manifest = join(dir, 'm.yaml');
    await writeFile(
      manifest,
      `${manifestHead('sigint')}  files:\n    - {url: "${up.url}/slow.bin", sha256: ${sha(slow)}}\n`,
    );
    const cache = join(dir, 'cache');
    const outDir = join(dir, 'out');
    let child: ChildProcess | undefined;
    const run = runCli(['build', '-m', manifest, '--cache', cache, '-o', join(outDir, 'sigint.tar')], { onChild: (c) => (child = c) });
    // Wait until the download is under way, then press Ctrl-C.
    while (!up.requests.some((q) => q.path === '/slow.bin' && q.method === 'GET')) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    child!.kill('SIGINT');
    const r = await run;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('error: interrupted (SIGINT)');
    expect(r.stderr).toContain('hint: Run the same command again');
    const left = [...(await listing(cache)), ...(await listing(outDir)).map((p) => `out/${p}`)];
    expect(left.filter((p) => /\.tmp$|(^|\/)work-/.test(p))).toEqual([]);
    expect(left.filter((p) => p.startsWith('out/sigint'))).toEqual([]);
    // What was on its way stays for the next run to resume.
    expect(left.filter((p) => /^partial\/.+\.partial$/.test(p))).toHaveLength(1);
    up.setDribble(0);
    const again = await runCli(['build', '-m', manifest, '--cache', cache, '-o', join(outDir, 'sigint.tar')]);
    expect(again.code, again.stderr).toBe(0);
  });
});

describe('ks-bundle build --concurrency', () => {
  it('is one limit for the whole build: files, manifests, the playbooks archive and the runtime never have more than n requests in flight together', async () => {
    const up2 = await startGuardedUpstream();
    try {
      const pb = join(dir, 'pb', 'playbooks');
      await mkdir(pb, { recursive: true });
      await writeFile(join(pb, 'site.yml'), '- hosts: all\n  tasks: []\n');
      execFileSync('tar', ['-czf', join(dir, 'pb.tar.gz'), '-C', join(dir, 'pb'), 'playbooks']);
      const bodies: Record<string, Buffer> = {
        '/f1.bin': randomBytes(600_000),
        '/f2.bin': randomBytes(600_000),
        '/f3.bin': randomBytes(600_000),
        '/pod.yaml': Buffer.concat([Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata: {a: "'), Buffer.alloc(400_000, 0x61), Buffer.from('"}\n')]),
        '/pb.tar.gz': await readFile(join(dir, 'pb.tar.gz')),
        '/node': randomBytes(600_000),
      };
      for (const [path, body] of Object.entries(bodies)) up2.files.set(path, { body, guard: 'open' });
      up2.setDribble(8 << 10);
      const u = (p: string) => `{url: "${up2.url}${p}", sha256: ${sha(bodies[p]!)}}`;
      const manifest = join(dir, 'conc.yaml');
      await writeFile(
        manifest,
        `apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: conc, version: 1.0.0}\nspec:\n  targets: [{os: debian-12, arch: amd64}]\n` +
          `  runtime: {source: url, urls: {amd64: ${u('/node')}}}\n` +
          `  files: [${u('/f1.bin')}, ${u('/f2.bin')}, ${u('/f3.bin')}]\n  manifests: [${u('/pod.yaml')}]\n` +
          `  playbooks: {url: "${up2.url}/pb.tar.gz", sha256: ${sha(bodies['/pb.tar.gz']!)}, entry: site.yml}\n`,
      );
      const r = await runCli(['build', '-m', manifest, '--cache', join(dir, 'cache-conc'), '-o', join(dir, 'out', 'conc.tar'), '--concurrency', '2']);
      expect(r.code, r.stderr).toBe(0);
      expect(up2.requests.filter((q) => q.method === 'GET').map((q) => q.status)).toEqual(Array(6).fill(200));
      // At this rate each download takes most of a second, so the six overlap as far as the limit lets them.
      expect(up2.peakInFlight()).toBe(2);
    } finally {
      await up2.close();
    }
  });
});
