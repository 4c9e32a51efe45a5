import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';
import { manifestHead } from '../support/manifest-head.js';

let dir: string;
let up: FaultUpstream;
const MB = 1 << 20;

async function manifest(name: string, files: string[], extra = '', k8s = 'pod.yaml'): Promise<string> {
  const lines = files.map((f) => `    - {url: "${up.url}/${f}", sha256: ${sha256sum(join(dir, 'up', f))}}`);
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    `${manifestHead(name)}  files:
${lines.join('\n')}
  manifests:
    - {url: "${up.url}/${k8s}", sha256: ${sha256sum(join(dir, 'up', k8s))}}
  playbooks: {path: ./pb, entry: site.yml}
${extra}`,
  );
  return file;
}

function unpack(tarball: string): string {
  const dest = tarball + '.x';
  execFileSync('mkdir', ['-p', dest]);
  execFileSync('tar', ['-xf', tarball, '-C', dest]);
  return join(dest, execFileSync('ls', [dest], { encoding: 'utf8' }).trim());
}

/** Every blob in the cache is named by its own digest: a failed download never leaves a wrong blob behind. */
async function cacheIsConsistent(cache: string): Promise<void> {
  const root = join(cache, 'sha256');
  for (const sub of await readdir(root).catch(() => [])) {
    for (const name of await readdir(join(root, sub))) expect(sha256sum(join(root, sub, name))).toBe(name);
  }
}

beforeAll(async () => {
  requireTools('tar', 'sha256sum', 'gzip');
  dir = await mkdtemp(join(tmpdir(), 'ksb-build-'));
  await mkdir(join(dir, 'up'));
  await mkdir(join(dir, 'pb'));
  await writeFile(join(dir, 'up', 'a.bin'), randomBytes(5 * MB));
  await writeFile(join(dir, 'up', 'b.bin'), randomBytes(3 * MB));
  await writeFile(join(dir, 'up', 'c.bin'), randomBytes(1 * MB));
  await writeFile(join(dir, 'up', 'big.bin'), randomBytes(40 * MB));
  await writeFile(join(dir, 'up', 'pod.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata: {a: b}\n');
  await writeFile(join(dir, 'up', 'wants-image.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: busybox:1.36}]}\n');
  await writeFile(join(dir, 'pb', 'site.yml'), '- hosts: all\n  tasks: []\n');
  up = await startFaultUpstream(join(dir, 'up'));
});

afterAll(async () => {
  await up?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('build against a misbehaving upstream', () => {
  beforeEach(() => up.faults.clear());

  it('survives a reset mid-body, a 500 and two 429s with Retry-After, resuming with Range', async () => {
    const m = await manifest('faults', ['a.bin', 'b.bin']);
    up.faults.set('/a.bin', [{ kind: 'reset-mid-body', afterBytes: 2 * MB }, { kind: 'status', status: 500 }, { kind: 'status', status: 429, retryAfter: '1' }, { kind: 'status', status: 429, retryAfter: '1' }]);
    up.faults.set('/b.bin', [{ kind: 'slow', delayMs: 5 }]);
    const out = join(dir, 'out', 'faults.tar');
    const r = await runCli(['build', '-m', m, '-o', out, '--cache', join(dir, 'cache1')]);
    expect(r.code, r.stderr).toBe(0);
    const aReqs = up.requests.filter((q) => q.path === '/a.bin');
    expect(aReqs.map((q) => q.status)).toEqual([200, 500, 429, 429, 206]);
    expect(aReqs.at(-1)!.range).toMatch(/^bytes=\d+-$/);
    expect(r.stderr).toMatch(/retry/);
    const root = unpack(out);
    expect(sha256sum(join(root, 'repos/files/a.bin'))).toBe(sha256sum(join(dir, 'up', 'a.bin')));
    expect(sha256sum(join(root, 'repos/files/b.bin'))).toBe(sha256sum(join(dir, 'up', 'b.bin')));
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: root });
    await cacheIsConsistent(join(dir, 'cache1'));
  });

  it('gives up on an upstream that goes silent mid-body after the idle timeout, and resumes with Range', async () => {
    const m = await manifest('stall', ['b.bin']);
    up.faults.set('/b.bin', [{ kind: 'stall-mid-body', afterBytes: 1 * MB }]);
    const earlier = up.requests.length;
    const out = join(dir, 'out', 'stall.tar');
    const r = await runCli(['build', '-m', m, '-o', out, '--cache', join(dir, 'cache-stall')], { env: { KS_BUNDLE_IDLE_TIMEOUT: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const bReqs = up.requests.slice(earlier).filter((q) => q.path === '/b.bin');
    expect(bReqs.map((q) => q.status)).toEqual([200, 206]);
    expect(bReqs[1]!.range).toBe(`bytes=${1 * MB}-`);
    expect(r.stderr).toMatch(/retry .*b\.bin.*no data from 127\.0\.0\.1:\d+ for 1 s/);
    expect(sha256sum(join(unpack(out), 'repos/files/b.bin'))).toBe(sha256sum(join(dir, 'up', 'b.bin')));
  });

  it('refuses a flipped byte, naming the artifact and URL, and stores nothing wrong', async () => {
    const m = await manifest('flipped', ['c.bin']);
    up.faults.set('/c.bin', Array.from({ length: 10 }, () => ({ kind: 'wrong-byte' as const, at: 1000 })));
    const cache = join(dir, 'cache2');
    const r = await runCli(['build', '-m', m, '-o', join(dir, 'out', 'flipped.tar'), '--cache', cache]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('file c.bin');
    expect(r.stderr).toContain(`${up.url}/c.bin`);
    expect(r.stderr).toContain(sha256sum(join(dir, 'up', 'c.bin')));
    await expect(readdir(join(dir, 'out')).then((f) => f.filter((n) => n.startsWith('flipped')))).resolves.toEqual([]);
    await cacheIsConsistent(cache);
  });

  it('a second build of the same manifest downloads nothing', async () => {
    const m = await manifest('again', ['a.bin', 'b.bin']);
    const cache = join(dir, 'cache3');
    expect((await runCli(['build', '-m', m, '-o', join(dir, 'out', 'again1.tar'), '--cache', cache])).code).toBe(0);
    const before = [...up.bytesSent.values()].reduce((a, b) => a + b, 0);
    const r = await runCli(['build', '-m', m, '-o', join(dir, 'out', 'again2.tar'), '--cache', cache]);
    expect(r.code, r.stderr).toBe(0);
    expect([...up.bytesSent.values()].reduce((a, b) => a + b, 0)).toBe(before);
    expect(r.stderr).toMatch(/cached\s+file a\.bin/);
  });

  it('a build killed halfway resumes: the rerun fetches only what is missing', async () => {
    const m = await manifest('killed', ['c.bin', 'big.bin']);
    const cache = join(dir, 'cache4');
    up.bytesSent.clear();
    up.faults.set('/big.bin', [{ kind: 'slow', delayMs: 20 }]);
    // Kill the process once c.bin is in and big.bin is on its way.
    let child: ChildProcess | undefined;
    const first = runCli(['build', '-m', m, '-o', join(dir, 'out', 'killed.tar'), '--cache', cache], { onChild: (c) => (child = c) });
    while ((up.bytesSent.get('/big.bin') ?? 0) < 8 * MB || (up.bytesSent.get('/c.bin') ?? 0) < MB) await new Promise((r) => setTimeout(r, 50));
    child!.kill('SIGKILL');
    await first;
    const firstBig = up.bytesSent.get('/big.bin')!;
    expect(firstBig).toBeLessThan(40 * MB);
    const r = await runCli(['build', '-m', m, '-o', join(dir, 'out', 'killed.tar'), '--cache', cache]);
    expect(r.code, r.stderr).toBe(0);
    expect(up.bytesSent.get('/c.bin')).toBe(MB);
    const resumed = up.requests.filter((q) => q.path === '/big.bin').at(-1)!;
    expect(resumed.status).toBe(206);
    const secondBig = up.bytesSent.get('/big.bin')! - firstBig;
    // What was on disk when the process died is not fetched again (at most the socket's unread tail is).
    expect(secondBig).toBeLessThan(40 * MB - 4 * MB);
    expect(firstBig + secondBig).toBeGreaterThanOrEqual(40 * MB);
    expect(sha256sum(join(unpack(join(dir, 'out', 'killed.tar')), 'repos/files/big.bin'))).toBe(sha256sum(join(dir, 'up', 'big.bin')));
  });
});

describe('reproducible output', () => {
  beforeEach(() => up.faults.clear());

  it('the same lock built twice, from two caches, gives a byte-identical tarball', async () => {
    const m = await manifest('repro', ['a.bin', 'c.bin']);
    const one = join(dir, 'out', 'repro1.tar');
    const two = join(dir, 'out', 'repro2.tar');
    expect((await runCli(['build', '-m', m, '-o', one, '--cache', join(dir, 'cache5')])).code).toBe(0);
    const r = await runCli(['build', '-m', m, '-o', two, '--cache', join(dir, 'cache6'), '--locked']);
    expect(r.code, r.stderr).toBe(0);
    expect(sha256sum(two)).toBe(sha256sum(one));
    expect(execFileSync('cat', [`${one}.sha256`], { encoding: 'utf8' })).toContain(sha256sum(one));
    const listing = execFileSync('tar', ['-tvf', one], { encoding: 'utf8' });
    expect(listing).not.toMatch(/\b(?!0\/0)\d+\/\d+\b/);
    expect(new Set(listing.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(3, 5).join(' ')))).toEqual(new Set(['2000-01-01 00:00']));
  });

  it('--compress gzip gives a .tar.gz that gzip, tar and sha256sum accept, holding what the plain tarball holds', async () => {
    const m = await manifest('gz', ['a.bin', 'big.bin']);
    const plain = join(dir, 'out', 'gz.tar');
    const gz = join(dir, 'out', 'gz.tar.gz');
    const cache = join(dir, 'cache-gz');
    expect((await runCli(['build', '-m', m, '-o', plain, '--cache', cache])).code).toBe(0);
    const r = await runCli(['build', '-m', m, '-o', gz, '--cache', cache, '--compress', 'gzip']);
    expect(r.code, r.stderr).toBe(0);
    execFileSync('gzip', ['-t', gz]);
    execFileSync('sha256sum', ['-c', `${gz}.sha256`], { cwd: join(dir, 'out') });
    expect(execFileSync('sh', ['-c', `gzip -dc '${gz}' | sha256sum`], { encoding: 'utf8' }).split(' ')[0]).toBe(sha256sum(plain));
    const v = await runCli(['verify', gz]);
    expect(v.code, v.stderr).toBe(0);
  });

  it('--locked fails and says what differs when the manifest changed', async () => {
    const m = await manifest('drift', ['a.bin']);
    expect((await runCli(['build', '-m', m, '-o', join(dir, 'out', 'drift.tar'), '--cache', join(dir, 'cache7')])).code).toBe(0);
    await manifest('drift', ['a.bin', 'c.bin']);
    const r = await runCli(['build', '-m', m, '-o', join(dir, 'out', 'drift2.tar'), '--cache', join(dir, 'cache7'), '--locked']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--locked: the manifest asks for file "c.bin", which the lock does not hold/);
  });
});

describe('completeness', () => {
  it('build fails naming an image a bundled Kubernetes manifest wants; --allow-missing warns, and verify says it again', async () => {
    const m = await manifest('incomplete', ['c.bin'], '', 'wants-image.yaml');
    const out = join(dir, 'out', 'incomplete.tar');
    const refused = await runCli(['build', '-m', m, '-o', out, '--cache', join(dir, 'cache8')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/image docker\.io\/library\/busybox:1\.36, wanted by manifests\/wants-image\.yaml \(Pod\/p \(container c\)\)/);
    const allowed = await runCli(['build', '-m', m, '-o', out, '--cache', join(dir, 'cache8'), '--allow-missing']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/warning: [\s\S]*busybox:1\.36/);
    const verify = await runCli(['verify', out]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/busybox:1\.36, wanted by manifests\/wants-image\.yaml/);
    expect((await runCli(['verify', out, '--allow-missing'])).code).toBe(0);
  });
});
