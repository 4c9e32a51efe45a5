import { execFileSync, spawnSync } from 'node:child_process';
import { appendFile, copyFile, mkdir, mkdtemp, open, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { buildOneFileBundle } from '../support/one-file-bundle.js';
import { requireTools } from '../support/tools.js';

let dir: string;
let bundle: string;
let keys: string;
let gnupg: string;

/** gpg with a private GNUPGHOME: the machine's keyrings are never read or changed. */
function gpg(args: string[], opts: { allowFail?: boolean } = {}) {
  const r = spawnSync('gpg', ['--batch', '--homedir', gnupg, ...args], { encoding: 'utf8' });
  if (!opts.allowFail && r.status !== 0) throw new Error(`gpg ${args.join(' ')}: ${r.stderr}`);
  return r;
}

async function copyOf(name: string): Promise<string> {
  const d = join(dir, name);
  await mkdir(d);
  const tar = join(d, 'b.tar');
  await copyFile(bundle, tar);
  return tar;
}

beforeAll(async () => {
  requireTools('gpg', 'tar', 'sha256sum');
  dir = await mkdtemp(join(tmpdir(), 'ksb-sign-'));
  gnupg = join(dir, 'gnupg');
  await mkdir(gnupg, { mode: 0o700 });
  bundle = join(dir, 'out', 'b.tar');
  await buildOneFileBundle(dir, { name: 'sg', bytes: 2_000_000, out: bundle });
  keys = join(dir, 'keys');
  const k = await runCli(['keygen', '--out', keys, '--name', 'Vendor Test', '--email', 'vendor@example.invalid']);
  expect(k.code, k.stderr).toBe(0);
  expect(k.stdout).toMatch(/private\.asc\s+the private key, UNENCRYPTED \(no passphrase\), mode 0600/);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('keygen', () => {
  it('writes an unencrypted private key with mode 0600 that gpg imports, and never overwrites it', async () => {
    expect((await stat(join(keys, 'private.asc'))).mode & 0o777).toBe(0o600);
    const listed = gpg(['--with-colons', '--show-keys', join(keys, 'private.asc')]).stdout;
    // Unencrypted: gpg --batch signs with it below with no passphrase to ask for.
    expect(listed).toMatch(/^sec:/m);
    expect(listed).toContain('Vendor Test <vendor@example.invalid>');
    const again = await runCli(['keygen', '--out', keys]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${join(keys, 'private.asc')} exists; not overwritten`);
  });
});

describe('sign and verify --key, with gpg as the oracle both ways', () => {
  it('gpg --verify accepts the signature ks-bundle sign writes, and so does verify --key', async () => {
    const tar = await copyOf('ours');
    const s = await runCli(['sign', tar, '--key', join(keys, 'private.asc')]);
    expect(s.code, s.stderr).toBe(0);
    gpg(['--import', join(keys, 'public.asc')]);
    const g = gpg(['--status-fd', '1', '--verify', `${tar}.asc`, tar]);
    expect(g.stdout).toMatch(/\[GNUPG:\] GOODSIG [0-9A-F]+ Vendor Test <vendor@example\.invalid>/);
    const v = await runCli(['verify', tar, '--key', join(keys, 'public.asc')]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/signed\s+by [0-9A-F]{40} on /);
  });

  it('verify --key accepts a signature gpg made, with the same key and with gpg\'s own RSA key', async () => {
    const tar = await copyOf('gpg-made');
    gpg(['--import', join(keys, 'private.asc')]);
    gpg(['--local-user', 'vendor@example.invalid', '--detach-sign', '--armor', '-o', `${tar}.asc`, tar]);
    expect((await runCli(['verify', tar, '--key', join(keys, 'public.asc')])).code).toBe(0);

    gpg(['--passphrase', '', '--quick-gen-key', 'RSA Vendor <rsa@example.invalid>', 'rsa3072', 'sign', 'never']);
    await writeFile(join(dir, 'rsa-public.asc'), gpg(['--armor', '--export', 'rsa@example.invalid']).stdout);
    await unlink(`${tar}.asc`);
    gpg(['--local-user', 'rsa@example.invalid', '--detach-sign', '--armor', '-o', `${tar}.asc`, tar]);
    const v = await runCli(['verify', tar, '--key', join(dir, 'rsa-public.asc')]);
    expect(v.code, v.stderr).toBe(0);
    // The same signature, checked with the other key: exit 3, naming the key that signed.
    const other = await runCli(['verify', tar, '--key', join(keys, 'public.asc')]);
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/b\.tar\.asc: signed by key [0-9A-F]{16}, not by .*public\.asc/);
  });

  it('refuses a bundle with no signature, exit 3, naming the missing .asc', async () => {
    const tar = await copyOf('unsigned');
    const v = await runCli(['verify', tar, '--key', join(keys, 'public.asc')]);
    expect(v.code).toBe(3);
    expect(v.stderr).toContain(`${tar}: not signed: no b.tar.asc beside it`);
  });

  it('refuses a tampered bundle, exit 3: bytes changed in a file, and bytes appended where SHA256SUMS cannot see them', async () => {
    const tar = await copyOf('tampered');
    expect((await runCli(['sign', tar, '--key', join(keys, 'private.asc')])).code).toBe(0);
    const appended = join(dir, 'tampered', 'appended.tar');
    await copyFile(tar, appended);
    await copyFile(`${tar}.asc`, `${appended}.asc`);
    await appendFile(appended, Buffer.alloc(10240));
    // Without the key the appended bytes pass (they lie after the tar's end); gpg and verify --key refuse them.
    expect((await runCli(['verify', appended])).code).toBe(0);
    expect(gpg(['--verify', `${appended}.asc`, appended], { allowFail: true }).status).not.toBe(0);
    const v = await runCli(['verify', appended, '--key', join(keys, 'public.asc')]);
    expect(v.code).toBe(3);
    expect(v.stderr).toMatch(/appended\.tar\.asc: the signature by [0-9A-F]{40} does not match the bundle/);

    const fh = await open(tar, 'r+');
    await fh.write(Buffer.from('X'), 0, 1, 600_000);
    await fh.close();
    expect(gpg(['--verify', `${tar}.asc`, tar], { allowFail: true }).status).not.toBe(0);
    const c = await runCli(['verify', tar, '--key', join(keys, 'public.asc')]);
    expect(c.code).toBe(3);
  });

  it('a split bundle verifies against the signature of the whole, read from B.asc beside B.parts', async () => {
    const tar = await copyOf('split');
    expect((await runCli(['sign', tar, '--key', join(keys, 'private.asc')])).code).toBe(0);
    expect((await runCli(['split', tar, '--size', '300K'])).code).toBe(0);
    await unlink(tar);
    const v = await runCli(['verify', `${tar}.parts`, '--key', join(keys, 'public.asc')]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/signed\s+by/);
    // Signing the parts gives the signature of their concatenation: gpg checks it against the joined file.
    await unlink(`${tar}.asc`);
    expect((await runCli(['sign', `${tar}.parts`, '--key', join(keys, 'private.asc')])).code).toBe(0);
    execFileSync('sh', ['-c', `cat b.tar.part[0-9]* > joined.tar`], { cwd: join(dir, 'split') });
    gpg(['--import', join(keys, 'public.asc')]);
    gpg(['--verify', `${tar}.asc`, join(dir, 'split', 'joined.tar')]);
  });

  it('--key on an unpacked folder is bad usage, exit 2', async () => {
    const x = join(dir, 'x');
    await mkdir(x);
    execFileSync('tar', ['-xf', bundle, '-C', x]);
    const v = await runCli(['verify', join(x, 'sg-1.0.0'), '--key', join(keys, 'public.asc')]);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain('an unpacked folder has no signature to check');
  });
});

describe('a taskbox that requires signed bundles (signatureKey in its config)', () => {
  it('refuses an unpacked folder (exit 2) and an unsigned tarball (exit 3) before changing anything', async () => {
    const conf = join(dir, 'site.yaml');
    await writeFile(conf, `signatureKey: ${join(keys, 'public.asc')}\n`);
    const dataDir = join(dir, 'data');
    const x = join(dir, 'x2');
    await mkdir(x);
    execFileSync('tar', ['-xf', bundle, '-C', x]);
    const env = { KS_BUNDLE_CONFIG: conf };
    const folder = await runCli(['install', '--offline', join(x, 'sg-1.0.0'), '--only', 'init', '--data-dir', dataDir], { env });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain(`${conf} requires one (signatureKey)`);
    const tar = await copyOf('site');
    const unsigned = await runCli(['install', '--offline', tar, '--only', 'init', '--data-dir', dataDir], { env });
    expect(unsigned.code).toBe(3);
    expect(unsigned.stderr).toContain('not signed: no b.tar.asc beside it');
    // Signed by another key: refused too, and nothing was unpacked.
    await runCli(['keygen', '--out', join(dir, 'other')]);
    expect((await runCli(['sign', tar, '--key', join(dir, 'other', 'private.asc')])).code).toBe(0);
    const other = await runCli(['install', '--offline', tar, '--only', 'init', '--data-dir', dataDir], { env });
    expect(other.code).toBe(3);
    await expect(stat(join(dataDir, 'sg-1.0.0'))).rejects.toThrow();
    const bad = join(dir, 'bad-site.yaml');
    await writeFile(bad, 'signatureKeys: /x\n');
    const typo = await runCli(['install', '--offline', tar, '--only', 'init', '--data-dir', dataDir], { env: { KS_BUNDLE_CONFIG: bad } });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('signatureKeys: unknown setting');
  });
});
