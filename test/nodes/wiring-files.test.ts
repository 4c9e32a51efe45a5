import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { aptSource, pipConf, containerdHostsToml, containerdHostsPath, mergeDaemonJson } from '../../src/nodes/wiring-files.js';
import { requireTools } from '../support/tools.js';

/** The wiring files, read back by the real clients' own parsers (no network: nothing is fetched). */
describe('wiring file contents', () => {
  let dir: string;
  const mirrorUrl = 'http://10.213.7.11:5080';
  beforeAll(() => {
    requireTools('apt-get', 'python3');
    dir = mkdtempSync(join(tmpdir(), 'ksb-wf-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('apt reads the deb822 source and would fetch only from the mirror, with signed-by', () => {
    const parts = join(dir, 'sources.list.d');
    mkdirSync(parts, { recursive: true });
    writeFileSync(join(parts, 'ks-bundle.sources'), aptSource({
      mirrorUrl, repo: 'debian-12', suites: ['bookworm'], components: ['main'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg', architectures: ['amd64'],
    }));
    for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, d), { recursive: true });
    const r = spawnSync('apt-get', [
      '-o', `Dir::Etc::SourceList=/dev/null`, '-o', `Dir::Etc::SourceParts=${parts}`, '-o', `Dir::State::Lists=${join(dir, 'lists')}`,
      '-o', `Dir::Cache=${join(dir, 'cache')}`, '-o', 'APT::Sandbox::User=root', 'update', '--print-uris',
    ], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const uris = r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]!.replace(/'/g, ''));
    expect(uris.length).toBeGreaterThan(0);
    for (const u of uris) expect(u.startsWith(`${mirrorUrl}/apt/debian-12/dists/bookworm/`)).toBe(true);
  });

  it('pip reads pip.conf: the mirror is the only index', () => {
    const f = join(dir, 'pip.conf');
    writeFileSync(f, pipConf({ mirrorUrl }));
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: dir, PIP_CONFIG_FILE: f };
    const r = spawnSync('python3', ['-m', 'pip', 'config', 'list'], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`global.index-url='${mirrorUrl}/pypi/simple/'`);
    expect(r.stdout).toContain("global.trusted-host='10.213.7.11'");
    expect(r.stdout).not.toMatch(/extra-index-url|find-links/);
  });

  it('containerd hosts.toml is TOML with the mirror as server', () => {
    const f = join(dir, 'hosts.toml');
    writeFileSync(f, containerdHostsToml({ mirrorUrl }));
    const r = spawnSync('python3', ['-c', 'import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],"rb"))))', f], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ server: mirrorUrl, host: { [mirrorUrl]: { capabilities: ['pull', 'resolve'] } } });
    expect(containerdHostsPath('docker.io')).toBe('/etc/containerd/certs.d/docker.io/hosts.toml');
    expect(containerdHostsPath('registry.local:5000')).toBe('/etc/containerd/certs.d/registry.local:5000/hosts.toml');
    expect(() => containerdHostsPath('../etc')).toThrow();
  });

  it('daemon.json is merged: other settings kept, the mirror first, no duplicate on rerun', () => {
    const mine = '{"log-driver":"json-file","registry-mirrors":["https://mirror.example"],"insecure-registries":["r.local:5000"]}';
    const once = mergeDaemonJson(mine, { mirrorUrl });
    expect(JSON.parse(once)).toEqual({
      'log-driver': 'json-file',
      'registry-mirrors': [mirrorUrl, 'https://mirror.example'],
      'insecure-registries': ['r.local:5000', '10.213.7.11:5080'],
    });
    expect(mergeDaemonJson(once, { mirrorUrl })).toBe(once);
    expect(JSON.parse(mergeDaemonJson(undefined, { mirrorUrl }))).toEqual({ 'registry-mirrors': [mirrorUrl], 'insecure-registries': ['10.213.7.11:5080'] });
    expect(() => mergeDaemonJson('{not json', { mirrorUrl })).toThrow();
  });
});
