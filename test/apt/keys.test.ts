/**
 * The bundle's signing key: generated once per build cache and reused, or given (here made by real gpg, RSA and
 * ed25519), and what it signs is accepted by gpgv, the verifier apt runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleSigningKey, GENERATED_KEY_FILE } from '../../src/apt/keys.js';
import { buildRepo, keyEntry } from '../../src/apt/repo.js';
import { requireTools } from '../support/tools.js';

const work = mkdtempSync(join(tmpdir(), 'ks-apt-keys-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function signedRepo(dir: string, key: Awaited<ReturnType<typeof bundleSigningKey>>): Promise<void> {
  const entries = [keyEntry(key), ...(await buildRepo({ os: 'debian-12', codename: 'bookworm', date: new Date('2026-01-02T03:04:05Z'), byArch: new Map([['amd64', []]]), key }))];
  for (const e of entries) {
    mkdirSync(join(dir, e.path, '..'), { recursive: true });
    writeFileSync(join(dir, e.path), e.data!);
  }
}

function gpgvAccepts(dir: string, keyring: string): void {
  const dist = join(dir, 'repos/apt/debian-12/dists/bookworm');
  execFileSync('gpgv', ['--keyring', keyring, join(dist, 'InRelease')], { stdio: 'pipe' });
  execFileSync('gpgv', ['--keyring', keyring, join(dist, 'Release.gpg'), join(dist, 'Release')], { stdio: 'pipe' });
}

describe('bundle signing key', () => {
  it('is generated once per cache, kept private, and reused', async () => {
    const storeRoot = join(work, 'store');
    const a = await bundleSigningKey({ storeRoot });
    const b = await bundleSigningKey({ storeRoot });
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(statSync(join(storeRoot, 'keys', GENERATED_KEY_FILE)).mode & 0o777).toBe(0o600);
    const dir = join(work, 'generated');
    await signedRepo(dir, a);
    gpgvAccepts(dir, join(dir, 'repos/apt/ks-bundle.gpg'));
    // Same key, same date: the signed files are byte-identical (no salt, no clock).
    const again = join(work, 'generated-again');
    await signedRepo(again, b);
    const sum = (d: string) => execFileSync('sha256sum', ['InRelease', 'Release.gpg', 'Release'], { cwd: join(d, 'repos/apt/debian-12/dists/bookworm'), encoding: 'utf8' });
    expect(sum(again)).toBe(sum(dir));
  });

  it.each([['ed25519'], ['rsa3072']])('a given key made by gpg (%s) signs what gpgv accepts', async (algo) => {
    requireTools('gpg', 'gpgv');
    const home = join(work, `gnupg-${algo}`);
    mkdirSync(home, { mode: 0o700 });
    const gpg = (...args: string[]) => execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);
    gpg('--quick-gen-key', `ks-bundle test ${algo} <t@example.invalid>`, algo, 'sign', 'never');
    const secret = join(work, `${algo}.asc`);
    writeFileSync(secret, gpg('--armor', '--export-secret-keys'));
    const keyring = join(work, `${algo}.gpg`);
    writeFileSync(keyring, gpg('--export'));
    const key = await bundleSigningKey({ storeRoot: join(work, 'unused'), signingKey: secret });
    const dir = join(work, `given-${algo}`);
    await signedRepo(dir, key);
    gpgvAccepts(dir, keyring);
  });
});
