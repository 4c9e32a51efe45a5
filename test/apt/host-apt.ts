/**
 * The machine's own apt, isolated from its configuration and state: a private sources list (the machine's Debian
 * mirror with debian-archive-keyring), private lists and caches, and a target's dpkg status in place of the host's.
 * This is the oracle the resolver is compared with, and the peer of the benchmark.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AptSource } from '../../src/manifest/types.js';
import { exec } from './exec.js';

export interface HostApt {
  dir: string;
  args: string[];
}

export function hostApt(dir: string, sources: AptSource[], statusFile: string, arch = 'amd64'): HostApt {
  for (const d of ['lists/partial', 'cache/archives/partial', 'etc']) mkdirSync(join(dir, d), { recursive: true });
  const list = sources.flatMap((s) => s.suites.map((suite) => `deb [signed-by=${s.keyring} arch=${arch}] ${s.url} ${suite} ${s.components.join(' ')}`));
  writeFileSync(join(dir, 'etc/sources.list'), list.join('\n') + '\n');
  const args = [
    '-o', `Dir::Etc::SourceList=${join(dir, 'etc/sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', 'Dir::Etc::Preferences=/dev/null',
    '-o', 'Dir::Etc::PreferencesParts=/dev/null',
    '-o', `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o', `Dir::State::status=${statusFile}`,
    '-o', `Dir::Cache=${join(dir, 'cache')}`,
    '-o', `Dir::Cache::archives=${join(dir, 'cache/archives')}`,
    '-o', 'APT::Sandbox::User=root',
    '-o', `APT::Architecture=${arch}`,
    '-o', `APT::Architectures=${arch}`,
    '-o', 'Debug::NoLocking=1',
    '-o', 'Acquire::Languages=none',
  ];
  return { dir, args };
}

export async function aptUpdate(a: HostApt): Promise<void> {
  await exec('apt-get', [...a.args, '-q', 'update']);
}

/** `apt-get install --print-uris`: what apt would download, as deb file names. */
export async function aptPrintUris(a: HostApt, packages: string[], recommends = false): Promise<string[]> {
  const r = await exec('apt-get', [...a.args, '-q', '-y', '--print-uris', recommends ? '--install-recommends' : '--no-install-recommends', 'install', ...packages], {
    env: { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' },
  });
  // The URI's last segment is the pool's file name (apt's local name would add the epoch).
  return [...r.stdout.matchAll(/^'([^']+\.deb)' \S+ \d+ /gm)].map((m) => decodeURIComponent(m[1]!.slice(m[1]!.lastIndexOf('/') + 1))).sort();
}
