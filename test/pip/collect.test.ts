/**
 * The collector against a real PEP 503 index of real wheels (repacked from Debian) served by python's http.server
 * on loopback, with real pip as the oracle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { collectPip } from '../../src/pip/collect.js';
import { IntegrityError, KsBundleError } from '../../src/errors.js';
import { requireTools } from '../support/tools.js';
import { serveStatic, wheelFixture, type StaticServer } from '../fixtures/wheels/fixture.js';
import { context, layOut, pipOracle, tempDir } from './helpers.js';

let fixture: string;
let upstream: StaticServer;
let index: string;

beforeAll(async () => {
  requireTools('python3', 'dpkg', 'sha256sum');
  fixture = wheelFixture();
  upstream = await serveStatic(fixture);
  index = `${upstream.url}/simple/`;
}, 120_000);

afterAll(async () => {
  await upstream?.close();
});

const sha256sum = (file: string) => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];

describe('collectPip against a real index', () => {
  it('resolves ansible-core, netaddr and Jinja2 to what pip picks, with hashes the index published', async () => {
    const reqs = ['ansible-core', 'netaddr', 'Jinja2'];
    const out = await collectPip(context(index, reqs));
    const ours = out.lock.map((l) => l.name).sort();
    expect(ours).toEqual(pipOracle(index, reqs));
    expect(ours).toContain('cryptography-38.0.4-cp37-abi3-manylinux_2_36_x86_64.whl');
    for (const l of out.lock) {
      expect(l.kind).toBe('wheel');
      expect(l.sha256).toBe(sha256sum(join(fixture, 'files', l.name)));
      expect(l.source).toBe(`${upstream.url}/files/${l.name}`);
    }
    const paths = out.entries.map((e) => e.path);
    expect(paths).toContain('repos/pip/simple/index.html');
    expect(paths).toContain('repos/pip/simple/ansible-core/index.html');
    expect(paths).toContain('repos/pip/files/Jinja2-3.1.2-py3-none-any.whl');
    const page = out.entries.find((e) => e.path === 'repos/pip/simple/jinja2/index.html')!.data!.toString();
    expect(page).toContain(`href="../../files/Jinja2-3.1.2-py3-none-any.whl#sha256=${sha256sum(join(fixture, 'files', 'Jinja2-3.1.2-py3-none-any.whl'))}"`);
    expect(page).toContain('data-requires-python="&gt;=3.7"');
  }, 120_000);

  it('backtracks out of a conflict exactly as pip does', async () => {
    // alpha 2.0 wants gamma>=2 while beta wants gamma<2: alpha has to fall back to 1.0.
    const reqs = ['alpha', 'beta'];
    const out = await collectPip(context(index, reqs));
    const ours = out.lock.map((l) => l.name).sort();
    expect(ours).toEqual(pipOracle(index, reqs));
    expect(ours).toEqual(['alpha-1.0-py3-none-any.whl', 'beta-1.0-py3-none-any.whl', 'gamma-1.0-py3-none-any.whl']);
  }, 60_000);

  it('honours extras, markers, wheel tags, yanked files and Requires-Python like pip', async () => {
    for (const reqs of [['delta'], ['alpha==2.0'], ['gamma>1.2'], ['beta', 'epsilon[fast]']]) {
      const out = await collectPip(context(index, reqs));
      expect(out.lock.map((l) => l.name).sort(), reqs.join(' ')).toEqual(pipOracle(index, reqs));
    }
  }, 120_000);

  it('fails with the conflicting requirement chain', async () => {
    const err = await collectPip(context(index, ['alpha==2.0', 'beta'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsBundleError);
    const msg = (err as Error).message;
    expect(msg).toContain('gamma');
    expect(msg).toContain('gamma>=2 (alpha 2.0 ← requested)');
    expect(msg).toContain('gamma<2 (beta 1.0 ← requested)');
  }, 60_000);

  it('names a dependency that has only an sdist', async () => {
    const err = await collectPip(context(index, ['needs-sdist'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsBundleError);
    expect((err as Error).message).toMatch(/sdistonly has only a source distribution \(1\.0\).*needs-sdist 1\.0/);
    // The hint offers what works, not the buildSdists setting that validation refuses.
    expect((err as KsBundleError).hint).toMatch(/Pin a version that has a wheel/);
    expect((err as KsBundleError).hint).not.toMatch(/buildSdists/);
  }, 60_000);

  it('fails naming the file when an upstream wheel does not match its index hash', async () => {
    const copy = tempDir('tampered');
    cpSync(fixture, copy, { recursive: true });
    const victim = join(copy, 'files', 'netaddr-0.8.0-py3-none-any.whl');
    const bytes = readFileSync(victim);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(victim, bytes);
    const server = await serveStatic(copy);
    try {
      const err = await collectPip(context(`${server.url}/simple/`, ['netaddr'])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as Error).message).toContain('netaddr-0.8.0-py3-none-any.whl');
    } finally {
      await server.close();
    }
  }, 60_000);

  it('with a lock fetches exactly the locked wheels, and refuses a lock that no longer covers the manifest', async () => {
    const first = await collectPip(context(index, ['Jinja2']));
    const again = await collectPip(context(index, ['Jinja2'], { locked: first.lock }));
    expect(again.lock).toEqual(first.lock);
    expect(again.entries.map((e) => [e.path, e.sha256])).toEqual(first.entries.map((e) => [e.path, e.sha256]));
    const err = await collectPip(context(index, ['Jinja2', 'netaddr'], { locked: first.lock })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/lock differs.*netaddr/s);
  }, 60_000);

  it('writes an index that a static server and pip can use as it is', async () => {
    const out = await collectPip(context(index, ['alpha', 'beta']));
    const bundle = tempDir('bundle');
    layOut(out, bundle);
    const server = await serveStatic(join(bundle, 'repos', 'pip'));
    try {
      expect(pipOracle(`${server.url}/simple/`, ['alpha', 'beta'])).toEqual(out.lock.map((l) => l.name).sort());
    } finally {
      await server.close();
    }
  }, 60_000);

  it('resolves one closure per target interpreter and bundles the union', async () => {
    const ctx = context(index, ['Jinja2']);
    const base = ctx.manifest.targets[0]!;
    ctx.manifest.targets = [base, { ...base, os: 'debian-13', glibc: '2.41' }];
    const out = await collectPip(ctx);
    const markupsafe = out.lock.find((l) => l.name.startsWith('MarkupSafe'))!;
    expect(markupsafe.extra!.targets).toEqual(['cp3.11-amd64-glibc2.36', 'cp3.11-amd64-glibc2.41']);
    // An older glibc cannot load the manylinux_2_36 MarkupSafe, and no other wheel of it exists.
    ctx.manifest.targets = [base, { ...base, os: 'ubuntu-20.04', glibc: '2.31' }];
    const err = await collectPip(ctx).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/glibc 2\.31.*markupsafe|markupsafe.*glibc 2\.31/is);
  }, 60_000);
});
