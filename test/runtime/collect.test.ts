import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startGuardedUpstream, type GuardedUpstream } from '../support/guarded-upstream.js';
import { requireTools } from '../support/tools.js';

let dir: string;
let up: GuardedUpstream;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FAKE_NODE = '#!/bin/sh\necho v99.0.0\n';

beforeAll(async () => {
  requireTools('tar', 'xz', 'gzip');
  dir = await mkdtemp(join(tmpdir(), 'ksb-runtime-url-'));
  up = await startGuardedUpstream();
  // A release tree as nodejs.org lays it out, packed by GNU tar both ways nodejs.org offers.
  const tree = join(dir, 'node-v99.0.0-linux-x64');
  await mkdir(join(tree, 'bin'), { recursive: true });
  await writeFile(join(tree, 'bin', 'node'), FAKE_NODE);
  await chmod(join(tree, 'bin', 'node'), 0o755);
  await writeFile(join(tree, 'README.md'), 'not node\n');
  execFileSync('tar', ['-cJf', join(dir, 'node.tar.xz'), '-C', dir, 'node-v99.0.0-linux-x64']);
  execFileSync('tar', ['-czf', join(dir, 'node.tar.gz'), '-C', dir, 'node-v99.0.0-linux-x64']);
  up.files.set('/dist/node-v99.0.0-linux-x64.tar.xz', { body: await readFile(join(dir, 'node.tar.xz')), guard: 'open' });
  up.files.set('/dist/node-v99.0.0-linux-x64.tar.gz', { body: await readFile(join(dir, 'node.tar.gz')), guard: 'open' });
  up.files.set('/dist/not-an-archive.tar.xz', { body: Buffer.from('plain text, not xz\n'), guard: 'open' });
});

afterAll(async () => {
  await up?.close();
  await rm(dir, { recursive: true, force: true });
});

async function build(name: string, path: string): Promise<{ code: number | null; stderr: string; root: string }> {
  const body = up.files.get(path)!.body;
  const m = join(dir, `${name}.yaml`);
  await writeFile(
    m,
    `apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: ${name}, version: 1.0.0}\nspec:\n  targets: [{os: debian-12, arch: amd64}]\n  runtime:\n    source: url\n    version: "99.0.0"\n    urls: {amd64: {url: "${up.url}${path}", sha256: ${sha(body)}}}\n`,
  );
  const out = join(dir, `${name}.tar`);
  const r = await runCli(['build', '-m', m, '-o', out, '--cache', join(dir, 'cache')]);
  const root = join(dir, `${name}.x`);
  if (r.code === 0) {
    await mkdir(root);
    execFileSync('tar', ['-xf', out, '-C', root]);
  }
  return { code: r.code, stderr: r.stderr, root: join(root, `${name}-1.0.0`) };
}

describe('a runtime pinned by URL', () => {
  it.each([
    ['xz', '/dist/node-v99.0.0-linux-x64.tar.xz'],
    ['gz', '/dist/node-v99.0.0-linux-x64.tar.gz'],
  ])('takes bin/node out of a .tar.%s release tarball', async (kind, path) => {
    const r = await build(`rt-${kind}`, path);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(r.root, 'bin/node'), 'utf8')).toBe(FAKE_NODE);
    expect(execFileSync(join(r.root, 'bin/node'), { encoding: 'utf8' })).toBe('v99.0.0\n');
  });

  it('a pinned file that is no .tar.xz at all fails as bad input naming the runtime, not as a crash', async () => {
    const r = await build('rt-bad', '/dist/not-an-archive.tar.xz');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: node runtime amd64: not a readable tar archive/);
    expect(r.stderr).toMatch(/hint: A pinned runtime URL is a Node\.js release tarball/);
  });
});
