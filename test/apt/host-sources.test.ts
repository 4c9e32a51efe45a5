import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSourcesDeb822, parseSourcesList, readBuildMachineArchives, type HostSourceEntry } from '../../src/apt/host-sources.js';
import { exec } from './exec.js';
import { requireTools } from '../support/tools.js';

/**
 * apt itself is the oracle for reading sources: `apt-get indextargets --no-release-info` lists every index target
 * apt would fetch for a sources configuration (no download, no Release needed), and our parsers must see the same
 * archives, suites and components in every sample.
 */
const samples = join(import.meta.dirname, 'samples', 'host-sources');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** What apt would fetch: `type uri suite component` lines, URIs in apt's normal form (one slash after mirror+file:, trailing /). */
async function aptTargets(sourceList: string, sourceParts: string): Promise<string[]> {
  const state = await mkdtemp(join(tmpdir(), 'ksb-host-apt-'));
  dirs.push(state);
  await mkdir(join(state, 'lists', 'partial'), { recursive: true });
  const r = await exec('apt-get', [
    'indextargets',
    '--no-release-info',
    '-o', `Dir::Etc::SourceList=${sourceList}`,
    '-o', `Dir::Etc::SourceParts=${sourceParts}`,
    '-o', `Dir::State::Lists=${join(state, 'lists')}`,
    '--format', '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)',
  ]);
  return [...new Set(r.stdout.split('\n').filter(Boolean))].sort();
}

function ourTargets(entries: HostSourceEntry[]): string[] {
  const norm = (uri: string) => uri.replace(/^mirror\+file:\/\/(?=\/)/, 'mirror+file:').replace(/\/*$/, '/');
  const out = new Set<string>();
  for (const e of entries.filter((x) => x.enabled))
    for (const t of e.types) for (const u of e.uris) for (const s of e.suites) for (const c of e.components) out.add(`${t} ${norm(u)} ${s} ${c}`);
  return [...out].sort();
}

describe("reading apt sources, checked against apt's own reading", () => {
  it('sees what apt sees in every sample, one-line and deb822', async () => {
    requireTools('apt-get');
    const names = (await readdir(samples)).filter((n) => /\.(list|sources)$/.test(n) && !n.includes('.mirror-'));
    expect(names.length).toBeGreaterThanOrEqual(7);
    const empty = await mkdtemp(join(tmpdir(), 'ksb-host-apt-'));
    dirs.push(empty);
    for (const name of names) {
      const file = join(samples, name);
      let wanted: string[];
      if (name.endsWith('.list')) wanted = await aptTargets(file, join(empty, 'no-parts'));
      else {
        const parts = await mkdtemp(join(tmpdir(), 'ksb-host-apt-'));
        dirs.push(parts);
        await copyFile(file, join(parts, 'sample.sources'));
        wanted = await aptTargets(join(empty, 'no-list'), parts);
      }
      const text = await readFile(file, 'utf8');
      const ours = ourTargets(name.endsWith('.list') ? parseSourcesList(text, name) : parseSourcesDeb822(text, name));
      expect(wanted.length, name).toBeGreaterThan(0);
      expect(ours, name).toEqual(wanted);
    }
  });

  it("gives this machine's Debian archives as apt has them", async () => {
    requireTools('apt-get');
    const machine = await readBuildMachineArchives();
    const targets = await aptTargets('/etc/apt/sources.list', '/etc/apt/sources.list.d');
    const osRelease = await readFile('/etc/os-release', 'utf8');
    const codename = /^VERSION_CODENAME=(\S+)$/m.exec(osRelease)?.[1];
    const firstWith = (suite: string) => targets.find((t) => t.startsWith('deb ') && t.endsWith(` ${suite} main`))?.split(' ')[1]?.replace(/\/$/, '');
    if (!/^ID=debian$/m.test(osRelease) || !codename) {
      expect(machine.urls).toEqual({});
      return;
    }
    // apt lists targets sorted here, so compare with the one apt has for that suite when it has exactly one.
    const main = targets.filter((t) => t.startsWith('deb ') && t.endsWith(` ${codename} main`));
    if (main.length === 1) expect(machine.urls.debian).toBe(firstWith(codename));
    const security = targets.filter((t) => t.startsWith('deb ') && t.endsWith(` ${codename}-security main`));
    if (security.length === 1) expect(machine.urls['debian-security']).toBe(firstWith(`${codename}-security`));
    expect(main.length + security.length).toBeGreaterThan(0);
  });

  it('reads a whole machine tree: os-release, sources.list, sources.list.d in name order, mirror lists; other extensions are not apt sources', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ksb-host-root-'));
    dirs.push(root);
    await mkdir(join(root, 'etc/apt/sources.list.d'), { recursive: true });
    await mkdir(join(root, 'etc/apt/mirrors'), { recursive: true });
    await copyFile(join(samples, 'debian-12.os-release'), join(root, 'etc/os-release'));
    await copyFile(join(samples, 'debian-12-cloud.sources'), join(root, 'etc/apt/sources.list.d/debian.sources'));
    await copyFile(join(samples, 'debian-12-cloud.mirror-debian.list'), join(root, 'etc/apt/mirrors/debian.list'));
    await copyFile(join(samples, 'debian-12-cloud.mirror-debian-security.list'), join(root, 'etc/apt/mirrors/debian-security.list'));
    // Sorted before debian.sources, but apt ignores this extension, and so must we.
    await writeFile(join(root, 'etc/apt/sources.list.d/a-old.list.disabled'), 'deb http://old.example.internal/debian bookworm main\n');
    expect(await readBuildMachineArchives(root)).toEqual({ urls: { debian: 'https://deb.debian.org/debian', 'debian-security': 'https://deb.debian.org/debian-security' }, why: {} });
    // sources.list comes before sources.list.d.
    await writeFile(join(root, 'etc/apt/sources.list'), 'deb http://first.example.internal/debian bookworm main\n');
    expect((await readBuildMachineArchives(root)).urls.debian).toBe('http://first.example.internal/debian');
  });
});
