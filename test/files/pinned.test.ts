import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startGuardedUpstream, type GuardedUpstream } from '../support/guarded-upstream.js';
import { requireTools } from '../support/tools.js';
import { manifestHead } from '../support/manifest-head.js';

const PASSWORD = 'S3CRET-PW-4711';
const TOKEN = 'S3CRET-TOK-0815';
const SECRETS = [PASSWORD, TOKEN, Buffer.from(`alice:${PASSWORD}`).toString('base64')];

let dir: string;
let a: GuardedUpstream;
let b: GuardedUpstream;
const sha = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

async function manifest(name: string, files: Array<{ url: string; sha256: string; name?: string }>): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  const lines = files.map((f) => `    - {url: "${f.url}", sha256: ${f.sha256}${f.name ? `, name: ${f.name}` : ''}}`);
  await writeFile(
    file,
    `${manifestHead(name)}  files:\n${lines.join('\n')}\n`,
  );
  return file;
}

/** Every file under `root` (the real grep, binary files included) that holds any of the secrets. */
function filesHoldingSecrets(root: string): string[] {
  const r = spawnSync('grep', ['-r', '-a', '-l', ...SECRETS.flatMap((s) => ['-e', s]), root], { encoding: 'utf8' });
  expect(r.status, r.stderr).not.toBe(2);
  return r.stdout.split('\n').filter(Boolean);
}

function unpack(tarball: string): string {
  const dest = tarball + '.x';
  execFileSync('mkdir', ['-p', dest]);
  execFileSync('tar', ['-xf', tarball, '-C', dest]);
  return dest;
}

beforeAll(async () => {
  requireTools('tar', 'grep');
  dir = await mkdtemp(join(tmpdir(), 'ksb-pinned-'));
  a = await startGuardedUpstream();
  b = await startGuardedUpstream();
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('credentials in file URLs', () => {
  it('are sent to the server and appear in no lock, bundle, cache, output or --json event', async () => {
    const basic = randomBytes(300_000);
    const token = randomBytes(200_000);
    a.files.set('/basic.bin', { body: basic, guard: { basic: { user: 'alice', password: PASSWORD } } });
    a.files.set('/token.bin', { body: token, guard: { token: TOKEN } });
    const host = a.url.replace('http://', '');
    const m = await manifest('secret', [
      { url: `http://alice:${PASSWORD}@${host}/basic.bin`, sha256: sha(basic) },
      { url: `${a.url}/token.bin?token=${TOKEN}&arch=amd64`, sha256: sha(token), name: 'token.bin' },
    ]);
    const out = join(dir, 'out', 'secret.tar');
    const cache = join(dir, 'cache-secret');
    const r = await runCli(['build', '-m', m, '-o', out, '--cache', cache]);
    expect(r.code, r.stderr).toBe(0);
    // The server only answers 200 to the right credentials: the build used them.
    expect(a.requests.filter((q) => q.path === '/basic.bin' && q.method === 'GET').map((q) => q.status)).toEqual([200]);
    expect(a.requests.filter((q) => q.path === '/token.bin' && q.method === 'GET').map((q) => q.status)).toEqual([200]);
    const lock = await readFile(`${out}.lock.yaml`, 'utf8');
    expect(lock).toContain(`source: http://***@${host}/basic.bin`);
    expect(lock).toContain(`source: ${a.url}/token.bin?token=***&arch=amd64`);
    const unpacked = unpack(out);
    expect(execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: join(unpacked, 'secret-1.0.0'), encoding: 'utf8' })).toBe('');
    expect(filesHoldingSecrets(unpacked)).toEqual([]);
    expect(filesHoldingSecrets(cache)).toEqual([]);
    expect(filesHoldingSecrets(`${out}.lock.yaml`)).toEqual([]);
    expect(filesHoldingSecrets(join(dir, 'secret.lock.yaml'))).toEqual([]);
    for (const s of SECRETS) expect(r.stdout + r.stderr).not.toContain(s);

    // --json, from a fresh cache (so every download's events are there), and --locked from the lock that holds no secret.
    const json = await runCli(['build', '-m', m, '-o', join(dir, 'out', 'secret2.tar'), '--cache', join(dir, 'cache-secret2'), '--json', '--locked']);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).toMatch(/"event":"done"/);
    for (const s of SECRETS) expect(json.stdout + json.stderr).not.toContain(s);
  });

  it('a checksum mismatch names the URL without its secrets', async () => {
    a.files.set('/wrong.bin', { body: randomBytes(1000), guard: { token: TOKEN } });
    const m = await manifest('mismatch', [{ url: `${a.url}/wrong.bin?token=${TOKEN}`, sha256: 'b'.repeat(64) }]);
    const r = await runCli(['build', '-m', m, '-o', join(dir, 'out', 'mismatch.tar'), '--cache', join(dir, 'cache-mismatch')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`file wrong.bin (${a.url}/wrong.bin?token=***)`);
    expect(r.stderr).toContain('expected ' + 'b'.repeat(64));
    for (const s of SECRETS) expect(r.stdout + r.stderr).not.toContain(s);
  });

  it('a 401 names the URL without its secrets', async () => {
    const m = await manifest('denied', [{ url: `http://alice:wrong-${PASSWORD}@${a.url.replace('http://', '')}/basic.bin`, sha256: 'c'.repeat(64) }]);
    const r = await runCli(['build', '-m', m, '-o', join(dir, 'out', 'denied.tar'), '--cache', join(dir, 'cache-denied')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`http://***@${a.url.replace('http://', '')}/basic.bin: unauthorized: HTTP 401`);
    for (const s of SECRETS) expect(r.stdout + r.stderr).not.toContain(s);
  });
});

describe('one digest, several entries or URLs', () => {
  it('two files with the same sha256 build from a cold cache with one download', async () => {
    const body = randomBytes(2_000_000);
    a.files.set('/same.bin', { body, guard: 'open' });
    const before = a.requests.length;
    const m = await manifest('same', [
      { url: `${a.url}/same.bin`, sha256: sha(body), name: 'one.bin' },
      { url: `${a.url}/same.bin`, sha256: sha(body), name: 'two.bin' },
    ]);
    const out = join(dir, 'out', 'same.tar');
    const r = await runCli(['build', '-m', m, '-o', out, '--cache', join(dir, 'cache-same')]);
    expect(r.code, r.stderr).toBe(0);
    expect(a.requests.slice(before).filter((q) => q.path === '/same.bin' && q.method === 'GET')).toHaveLength(1);
    const root = join(unpack(out), 'same-1.0.0');
    expect(execFileSync('sha256sum', ['repos/files/one.bin', 'repos/files/two.bin'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split(' ')[0])).toEqual([sha(body), sha(body)]);
  });

  it('a cached digest under a new URL is fetched from that URL and verified; the lock names the URL the bytes came from', async () => {
    const body = randomBytes(500_000);
    a.files.set('/moved.bin', { body, guard: 'open' });
    b.files.set('/moved.bin', { body, guard: 'open' });
    const cache = join(dir, 'cache-moved');
    const first = await manifest('moved', [{ url: `${a.url}/moved.bin`, sha256: sha(body) }]);
    expect((await runCli(['build', '-m', first, '-o', join(dir, 'out', 'moved1.tar'), '--cache', cache])).code).toBe(0);

    // The same digest from server B: B is asked, and the lock says B.
    const second = await manifest('moved', [{ url: `${b.url}/moved.bin`, sha256: sha(body) }]);
    const r = await runCli(['build', '-m', second, '-o', join(dir, 'out', 'moved2.tar'), '--cache', cache]);
    expect(r.code, r.stderr).toBe(0);
    expect(b.requests.filter((q) => q.path === '/moved.bin' && q.method === 'GET').map((q) => q.status)).toEqual([200]);
    expect(await readFile(join(dir, 'out', 'moved2.tar.lock.yaml'), 'utf8')).toContain(`source: ${b.url}/moved.bin`);

    // Once B has served these bytes, the cache answers for B too.
    const again = await runCli(['build', '-m', second, '-o', join(dir, 'out', 'moved3.tar'), '--cache', cache]);
    expect(again.code, again.stderr).toBe(0);
    expect(b.requests.filter((q) => q.path === '/moved.bin' && q.method === 'GET')).toHaveLength(1);

    // A URL that serves other bytes fails although the cache holds the pinned digest.
    b.files.set('/other.bin', { body: randomBytes(500_000), guard: 'open' });
    const third = await manifest('moved', [{ url: `${b.url}/other.bin`, sha256: sha(body) }]);
    const bad = await runCli(['build', '-m', third, '-o', join(dir, 'out', 'moved4.tar'), '--cache', cache]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(`${b.url}/other.bin`);
  });
});
