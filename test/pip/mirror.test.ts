/**
 * The bundle's pip index served by the real mirror (startMirror) to real clients: pip installs ansible-core,
 * netaddr and Jinja2 into a fresh venv with nothing but the mirror as its index; our own client reads the PEP 691
 * JSON form back; nothing outside the bundle is served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { collectPip } from '../../src/pip/collect.js';
import { startMirror, type RunningMirror } from '../../src/mirror/server.js';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import { pipConf } from '../../src/nodes/wiring-files.js';
import { requireTools } from '../support/tools.js';
import { isolatedPipEnv, serveStatic, wheelFixture, type StaticServer } from '../fixtures/wheels/fixture.js';
import { context, layOut, tempDir } from './helpers.js';

const REQS = ['ansible-core', 'netaddr', 'Jinja2'];
let upstream: StaticServer;
let mirror: RunningMirror;
let lockNames: string[];

beforeAll(async () => {
  requireTools('python3', 'dpkg', 'curl');
  upstream = await serveStatic(wheelFixture());
  const out = await collectPip(context(`${upstream.url}/simple/`, REQS));
  lockNames = out.lock.map((l) => l.name).sort();
  const bundle = tempDir('bundle');
  layOut(out, bundle);
  mirror = await startMirror({ bundleDir: bundle, mounts: BUNDLE_MOUNTS, port: 0 });
}, 120_000);

afterAll(async () => {
  await mirror?.close();
  await upstream?.close();
});

describe('pip mirror', () => {
  it('real pip, configured by the pip.conf a node gets, installs ansible-core, netaddr and Jinja2 from it into a fresh venv, and they run', async () => {
    const venv = join(tempDir('venv'), 'v');
    execFileSync('/usr/bin/python3', ['-m', 'venv', venv], { env: isolatedPipEnv() });
    // The installer's own /etc/pip.conf bytes, and no other configuration: no --index-url, no PIP_* but the file.
    const conf = join(tempDir('conf'), 'pip.conf');
    writeFileSync(conf, pipConf({ mirrorUrl: mirror.url }));
    // Asynchronously: the mirror runs in this process and must keep answering while pip runs.
    const { stdout } = await promisify(execFile)(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', ...REQS], {
      env: { ...isolatedPipEnv(), PIP_CONFIG_FILE: conf },
    });
    // pip says where it looks: the mirror alone (a machine's own pip config could add indexes or find-links).
    expect(stdout).toContain(`Looking in indexes: ${mirror.url}/pypi/simple/\n`);
    expect(stdout).not.toContain('Looking in links');
    const version = execFileSync(join(venv, 'bin', 'ansible'), ['--version'], { encoding: 'utf8', env: { PATH: `${venv}/bin:/usr/bin:/bin` } });
    expect(version).toMatch(/^ansible \[core 2\.14\.18\]/);
    expect(version).toContain(venv);
    execFileSync(join(venv, 'bin', 'python'), ['-c', 'import netaddr, jinja2, yaml, cryptography.fernet'], { env: isolatedPipEnv() });
    expect(mirror.misses).toEqual([]);
  }, 180_000);

  it('answers PEP 691 JSON when asked, HTML otherwise, and our client resolves the same set from it', async () => {
    const json = await fetch(`${mirror.url}/pypi/simple/jinja2/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } });
    expect(json.headers.get('content-type')).toBe('application/vnd.pypi.simple.v1+json');
    const doc = (await json.json()) as { name: string; files: Array<{ filename: string; url: string; hashes: { sha256: string } }> };
    expect(doc.name).toBe('jinja2');
    const file = await fetch(new URL(doc.files[0]!.url, `${mirror.url}/pypi/simple/jinja2/`));
    expect(file.status).toBe(200);
    await file.arrayBuffer();
    const html = await fetch(`${mirror.url}/pypi/simple/jinja2/`, { headers: { accept: '*/*' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    // The page is served as the index writer wrote it: its links lead to /pypi/files/.
    expect(await html.text()).toContain('href="../../files/Jinja2-3.1.2-py3-none-any.whl#sha256=');
    expect(new URL(doc.files[0]!.url, `${mirror.url}/pypi/simple/jinja2/`).pathname).toMatch(/^\/pypi\/files\/Jinja2-/);
    const again = await collectPip(context(`${mirror.url}/pypi/simple/`, REQS));
    expect(again.lock.map((l) => l.name).sort()).toEqual(lockNames);
  }, 60_000);

  it('redirects unnormalised names and links of older pages, and serves nothing outside the bundle', async () => {
    const redirect = await fetch(`${mirror.url}/pypi/simple/Jinja2/`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/pypi/simple/jinja2/');
    const bare = await fetch(`${mirror.url}/pypi/simple/Jinja2`, { redirect: 'manual' });
    expect(bare.headers.get('location')).toBe('/pypi/simple/jinja2/');
    // Pages served by earlier versions linked /pypi/simple/files/<wheel>: curl follows it to the same bytes.
    // (Asynchronously: the mirror answers from this very process.)
    const wheel = 'Jinja2-3.1.2-py3-none-any.whl';
    const curl = async (...args: string[]) => (await promisify(execFile)('curl', args, { encoding: 'utf8' })).stdout;
    const old = await curl('-sfL', '-o', '/dev/null', '-w', '%{http_code} %{url_effective} %{size_download}', `${mirror.url}/pypi/simple/files/${wheel}`);
    const direct = await curl('-sf', '-o', '/dev/null', '-w', '%{size_download}', `${mirror.url}/pypi/files/${wheel}`);
    expect(Number(direct)).toBeGreaterThan(0);
    expect(old).toBe(`200 ${mirror.url}/pypi/files/${wheel} ${direct}`);
    for (const path of ['/pypi/simple/files/..%2f..%2fetc%2fpasswd', '/pypi/simple/../../etc/passwd', '/pypi/simple/files/%2e%2e/simple/index.html', '/pypi/simple/nosuchproject/', '/pypi/files/..%2fsimple%2findex.html', '/pypi/index.html']) {
      const res = await fetch(`${mirror.url}${path}`);
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
    const put = await fetch(`${mirror.url}/pypi/simple/jinja2/`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
  });
});
