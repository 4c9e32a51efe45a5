/**
 * The upstream side against the machine's real Debian mirror: Release verification with debian-archive-keyring,
 * the Packages index by xz and by gz checked against the digest the Release gives, the cache, and the checks apt
 * makes besides the signature (Valid-Until, suite name).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { iterateStanzas } from '../../src/apt/deb822.js';
import { checkFreshAndNamed, fetchPackages, fetchSuiteRelease } from '../../src/apt/upstream.js';
import { IntegrityError } from '../../src/errors.js';
import { ContentStore } from '../../src/store/content-store.js';
import { exec } from './exec.js';
import { machineDebianSources } from './support.js';
import { testHttp } from '../support/http.js';
const http = testHttp();

const work = mkdtempSync(join(tmpdir(), 'ks-apt-upstream-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const [debian, security] = machineDebianSources() as [ReturnType<typeof machineDebianSources>[0], ReturnType<typeof machineDebianSources>[0]];

describe('upstream Debian archive', () => {
  it('verifies InRelease and takes Packages by xz and by gz, each checked against the Release', async () => {
    const store = new ContentStore(join(work, 'store'));
    const rel = await fetchSuiteRelease(debian, 'bookworm-updates', { store, http });
    expect(rel.release.fields['Codename']).toBe('bookworm-updates');
    const plain = rel.release.files.get('main/binary-amd64/Packages')!;
    const viaXz = await fetchPackages(rel, 'main', 'amd64', { store, http });
    expect(viaXz!.compressed.codec).toBe('xz');
    expect(viaXz!.blob.sha256).toBe(plain.sha256);
    // Independently: sha256sum of the stored uncompressed file is what the signed Release lists.
    expect((await exec('sha256sum', [viaXz!.blob.path])).stdout.split(' ')[0]).toBe(plain.sha256);

    // Without an .xz in the Release, the .gz is used, into a fresh store (bookworm main is the suite that
    // publishes one: 12 MB).
    const gzStore = new ContentStore(join(work, 'store-gz'));
    const main = await fetchSuiteRelease(debian, 'bookworm', { store: gzStore, http });
    const mainPlain = main.release.files.get('main/binary-amd64/Packages')!;
    main.release.files.delete('main/binary-amd64/Packages.xz');
    const viaGz = await fetchPackages(main, 'main', 'amd64', { store: gzStore, http });
    expect(viaGz!.compressed.codec).toBe('gz');
    expect(viaGz!.blob.sha256).toBe(mainPlain.sha256);
    expect((await exec('sha256sum', [viaGz!.blob.path])).stdout.split(' ')[0]).toBe(mainPlain.sha256);
  });

  it('a cached index is used without touching the network', async () => {
    const store = new ContentStore(join(work, 'store'));
    const rel = await fetchSuiteRelease(security, 'bookworm-security', { store, http });
    const first = await fetchPackages(rel, 'main', 'amd64', { store, http });
    const dead = { ...rel, distsUrl: 'http://127.0.0.1:9/dists/bookworm-security/' };
    const again = await fetchPackages(dead, 'main', 'amd64', { store, http: testHttp({ retries: 0 }) });
    expect(again!.blob.path).toBe(first!.blob.path);
  });

  it('refuses an expired Release and one for another suite', async () => {
    const store = new ContentStore(join(work, 'store'));
    const rel = await fetchSuiteRelease(security, 'bookworm-security', { store, http });
    expect(rel.release.fields['Valid-Until']).toBeTruthy();
    const later = new Date(new Date(rel.release.fields['Valid-Until']!).getTime() + 1000);
    expect(() => checkFreshAndNamed(rel.release, 'bookworm-security', rel.distsUrl, later)).toThrow(IntegrityError);
    expect(() => checkFreshAndNamed(rel.release, 'trixie-security', rel.distsUrl, new Date(0))).toThrow(/not trixie-security/);
    await expect(fetchSuiteRelease(security, 'bookworm-security', { store, http, now: later })).rejects.toThrow(/expired/);
  });

  it('the scanner finds every stanza of a real Packages file, cut verbatim (grep counts them)', async () => {
    const store = new ContentStore(join(work, 'store'));
    const rel = await fetchSuiteRelease(security, 'bookworm-security', { store, http });
    const got = await fetchPackages(rel, 'main', 'amd64', { store, http });
    const buf = readFileSync(got!.blob.path);
    const stanzas = [...iterateStanzas(buf)];
    const packages = Number(execFileSync('grep', ['-c', '^Package: ', got!.blob.path], { encoding: 'utf8' }).trim());
    expect(packages).toBeGreaterThan(1000);
    expect(stanzas.length).toBe(packages);
    for (let i = 0; i < stanzas.length; i += 97) {
      const s = stanzas[i]!;
      expect(buf.toString('latin1', s.start, s.end)).toMatch(new RegExp(`^Package: ${s.fields['Package']!.replace(/[+.]/g, '\\$&')}\n[\\s\\S]*\nSHA256: ${s.fields['SHA256']}(\n|$)`));
    }
  });
});
