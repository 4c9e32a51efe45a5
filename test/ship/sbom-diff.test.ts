import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';
import { validateCycloneDx } from './cdx-validator.js';
import { buildTwoBundles, type TwoBundles } from './two-bundles.js';

let dir: string;
let two: TwoBundles;
const unpacked: Record<string, string> = {};

/** GNU tar unpacks a bundle for the oracles; returns its top folder. */
function untar(tarball: string, into: string): string {
  execFileSync('mkdir', ['-p', into]);
  execFileSync('tar', ['-xf', tarball, '-C', into]);
  return join(into, execFileSync('ls', [into], { encoding: 'utf8' }).trim());
}

/** Every deb of an unpacked bundle as dpkg-deb reads it: package, version, architecture, sha256. */
function debsOf(root: string): Array<{ pkg: string; version: string; arch: string; sha256: string }> {
  const files = execFileSync('find', [join(root, 'repos/apt'), '-name', '*.deb'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  return files.map((f) => {
    const [pkg, version, arch] = execFileSync('dpkg-deb', ['-f', f, 'Package', 'Version', 'Architecture'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(': ')[1]!);
    return { pkg: pkg!, version: version!, arch: arch!, sha256: sha256sum(f) };
  });
}

/** The image digest an OCI layout's index.json gives a ref name. */
async function imageDigest(root: string, ref: string): Promise<string> {
  const index = JSON.parse(await readFile(join(root, 'repos/images/index.json'), 'utf8'));
  return index.manifests.find((m: any) => Object.values(m.annotations ?? {}).includes(ref)).digest;
}

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci', 'tar', 'dpkg-deb', 'python3', 'npm');
  dir = await mkdtemp(join(tmpdir(), 'ksb-sbom-diff-'));
  two = await buildTwoBundles(dir);
  unpacked.old = untar(two.old, join(dir, 'x-old'));
  unpacked.new = untar(two.new, join(dir, 'x-new'));
});

afterAll(async () => {
  await two?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('sbom', () => {
  it('CycloneDX: valid against the official schema, the same bytes as the sbom.cdx.json the build listed in SHA256SUMS', async () => {
    const r = await runCli(['sbom', two.old, '-o', join(dir, 'old.cdx.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(validateCycloneDx(join(dir, 'old.cdx.json'))).toMatch(/^valid CycloneDX 1\.6/);
    const inside = join(unpacked.old!, 'sbom.cdx.json');
    expect(await readFile(join(dir, 'old.cdx.json'), 'utf8')).toBe(await readFile(inside, 'utf8'));
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: unpacked.old });
    expect(await readFile(join(unpacked.old!, 'SHA256SUMS'), 'utf8')).toContain(`${sha256sum(inside)}  sbom.cdx.json\n`);
  });

  it('lists every image, deb, wheel and file with the purl the spec gives it and its SHA-256', async () => {
    const bom = JSON.parse(await readFile(join(dir, 'old.cdx.json'), 'utf8'));
    const byPurl = new Map<string, any>(bom.components.map((c: any) => [c.purl, c]));
    const sha = (c: any) => c.hashes.find((h: any) => h.alg === 'SHA-256').content;
    const digest = await imageDigest(unpacked.old!, 'docker.io/library/busybox:1.36');
    const image = byPurl.get(`pkg:oci/busybox@sha256%3A${digest.slice(7)}?repository_url=docker.io/library/busybox&tag=1.36`);
    expect(image?.type).toBe('container');
    expect(sha(image)).toBe(digest.slice(7));
    const debs = debsOf(unpacked.old!);
    expect(debs.map((d) => d.pkg)).toContain('socat');
    for (const d of debs) {
      const c = byPurl.get(`pkg:deb/debian/${d.pkg}@${encodeURIComponent(d.version)}?arch=${d.arch}`);
      expect(c, `deb ${d.pkg}`).toBeDefined();
      expect(sha(c)).toBe(d.sha256);
    }
    const wheels = execFileSync('sh', ['-c', `ls ${join(unpacked.old!, 'repos/pip/files')}/*.whl`], { encoding: 'utf8' }).trim().split('\n');
    expect(wheels.length).toBeGreaterThan(0);
    for (const w of wheels) {
      const [project, version] = w.split('/').at(-1)!.split('-');
      const c = byPurl.get(`pkg:pypi/${project!.toLowerCase().replace(/_/g, '-')}@${version}`);
      expect(c, w).toBeDefined();
      expect(sha(c)).toBe(sha256sum(w));
      // The licence the wheel's own METADATA states, read by Python's zipfile.
      const stated = execFileSync('python3', ['-c', `import zipfile,sys,email
z=zipfile.ZipFile(sys.argv[1]); m=[n for n in z.namelist() if n.endswith('.dist-info/METADATA')][0]
msg=email.message_from_bytes(z.read(m)); cs=[c.split('::')[-1].strip() for c in msg.get_all('Classifier') or [] if c.startswith('License ::')]
print(msg.get('License-Expression') or ', '.join(c for c in cs if c!='OSI Approved') or (msg.get('License') or ''))`, w], { encoding: 'utf8' }).trim();
      const said = c.licenses?.[0]?.expression ?? c.licenses?.[0]?.license?.name ?? '';
      if (stated) expect([stated, 'MIT', 'Apache-2.0', 'ISC', 'PSF-2.0']).toContain(said);
    }
    for (const f of ['a.bin', 'b.bin']) {
      const c = bom.components.find((x: any) => x.name === f);
      expect(c.purl).toMatch(new RegExp(`^pkg:generic/${f.replace('.', '\\.')}\\?download_url=http://127\\.0\\.0\\.1:\\d+/${f.replace('.', '\\.')}$`));
      expect(sha(c)).toBe(sha256sum(join(unpacked.old!, 'repos/files', f)));
      expect(c.externalReferences[0]).toMatchObject({ type: 'distribution' });
    }
  });

  it('SPDX 2.3: the required document and package fields, unique ids, timestamps without milliseconds', async () => {
    const r = await runCli(['sbom', two.old, '--format', 'spdx']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'ship-1.0.0' });
    expect(() => new URL(doc.documentNamespace)).not.toThrow();
    expect(doc.creationInfo.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(doc.creationInfo.creators.every((c: string) => /^(Tool|Organization|Person): \S/.test(c))).toBe(true);
    const ids = doc.packages.map((p: any) => p.SPDXID);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of doc.packages) {
      expect(p.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
      expect(typeof p.name).toBe('string');
      expect(p.downloadLocation === 'NOASSERTION' || /^https?:\/\//.test(p.downloadLocation)).toBe(true);
      expect(p.filesAnalyzed).toBe(false);
      for (const k of ['licenseConcluded', 'licenseDeclared', 'copyrightText']) expect(typeof p[k]).toBe('string');
    }
    const artifacts = doc.packages.filter((p: any) => p.externalRefs);
    expect(artifacts.length).toBe(JSON.parse(await readFile(join(dir, 'old.cdx.json'), 'utf8')).components.length);
    for (const p of artifacts) {
      expect(p.checksums).toEqual([{ algorithm: 'SHA256', checksumValue: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
      expect(p.externalRefs[0]).toMatchObject({ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl' });
    }
    for (const rel of doc.relationships) {
      for (const id of [rel.spdxElementId, rel.relatedSpdxElement]) expect(id === 'SPDXRef-DOCUMENT' || ids.includes(id)).toBe(true);
    }
  });
});

describe('diff', () => {
  it('--json of OLD and NEW: the deb added, the moved tag as one change digest to digest, the changed file', async () => {
    const r = await runCli(['diff', two.old, two.new, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    const oldDebs = debsOf(unpacked.old!);
    const addedDebs = debsOf(unpacked.new!).filter((n) => !oldDebs.some((o) => o.pkg === n.pkg));
    expect(addedDebs.map((x) => x.pkg)).toContain('ipset');
    expect(d).toEqual({
      added: addedDebs.map((x) => ({ kind: 'deb', name: x.pkg, version: x.version })).sort((a, b) => (a.name < b.name ? -1 : 1)),
      removed: [],
      changed: [
        { kind: 'image', name: 'docker.io/library/busybox:1.36', from: await imageDigest(unpacked.old!, 'docker.io/library/busybox:1.36'), to: await imageDigest(unpacked.new!, 'docker.io/library/busybox:1.36') },
        { kind: 'file', name: 'a.bin', from: sha256sum(two.files.aOld), to: sha256sum(two.files.aNew) },
      ],
    });
    // The locks beside the bundles give the same answer without reading the bundles; the text form says it per line.
    const locks = await runCli(['diff', `${two.old}.lock.yaml`, `${two.new}.lock.yaml`, '--json']);
    expect(JSON.parse(locks.stdout)).toEqual(d);
    const text = await runCli(['diff', `${two.old}.lock.yaml`, `${two.new}.lock.yaml`]);
    expect(text.stdout).toContain(`~ image docker.io/library/busybox:1.36 ${d.changed[0].from} -> ${d.changed[0].to}\n`);
    expect(text.stdout).toMatch(/^\+ deb ipset \S+$/m);
  });

  it('exits 0 with no differences, and 2 on input that is neither a bundle nor a lock', async () => {
    const same = await runCli(['diff', two.old, `${two.old}.lock.yaml`]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toBe('no differences\n');
    const junk = join(dir, 'junk.txt');
    await writeFile(junk, 'hello: [1, 2\n');
    for (const bad of [junk, join(dir, 'nonexistent.tar')]) {
      const r = await runCli(['diff', bad, two.new]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(bad);
    }
  });
});
