/**
 * A playbooks archive is unpacked once: its files go into the cache by digest, and a second build takes the tree from
 * there. Real parts: an archive made by GNU tar (an executable, a link inside the tree, two files with the same bytes),
 * served over HTTP from loopback; GNU tar, cmp and sha256sum read what the builds wrote.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';
import { manifestHead } from '../support/manifest-head.js';

let tmp: string;
let up: FaultUpstream;
let manifestFile: string;
const out = (name: string) => join(tmp, 'out', name);

beforeAll(async () => {
  requireTools('tar', 'gzip', 'sha256sum', 'cmp');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-playbooks-cache-'));
  const src = join(tmp, 'src', 'kubespray-9.9.9');
  mkdirSync(join(src, 'roles', 'a'), { recursive: true });
  writeFileSync(join(src, 'cluster.yml'), '- hosts: all\n  roles: [a]\n');
  writeFileSync(join(src, 'roles', 'a', 'main.yml'), '- debug: {msg: a}\n');
  writeFileSync(join(src, 'roles', 'a', 'same.yml'), '- debug: {msg: a}\n');
  writeFileSync(join(src, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(src, 'run.sh'), 0o755);
  symlinkSync('roles/a/main.yml', join(src, 'linked.yml'));
  mkdirSync(join(tmp, 'up'));
  execFileSync('tar', ['-czf', join(tmp, 'up', 'kubespray.tar.gz'), '-C', join(tmp, 'src'), 'kubespray-9.9.9']);
  up = await startFaultUpstream(join(tmp, 'up'));
  mkdirSync(join(tmp, 'out'));
  manifestFile = join(tmp, 'pb.yaml');
  writeFileSync(
    manifestFile,
    `${manifestHead('pb')}  playbooks: {url: "${up.url}/kubespray.tar.gz", sha256: ${sha256sum(join(tmp, 'up', 'kubespray.tar.gz'))}, entry: cluster.yml}
`,
  );
});

afterAll(async () => {
  await up?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const build = async (name: string) => {
  const r = await runCli(['build', '-m', manifestFile, '-o', out(name), '--cache', join(tmp, 'cache')]);
  expect(r.code, r.stderr).toBe(0);
};
/** `tar tvf` of the bundle's playbooks: mode and path, sorted. */
const listing = (name: string) =>
  execFileSync('tar', ['-tvf', out(name)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => / pb-1\.0\.0\/playbooks\/.+[^/]$/.test(l))
    .map((l) => `${l.split(/\s+/)[0]} ${l.split(/\s+/).slice(5).join(' ')}`)
    .sort();
const member = (name: string, path: string) => execFileSync('tar', ['-xOf', out(name), `pb-1.0.0/playbooks/${path}`], { encoding: 'utf8' });

describe('a playbooks archive', () => {
  it('is packed as its files, an executable kept executable and a link as the file it points at', async () => {
    await build('first.tar');
    expect(listing('first.tar')).toEqual([
      '-rw-r--r-- pb-1.0.0/playbooks/cluster.yml',
      '-rw-r--r-- pb-1.0.0/playbooks/linked.yml',
      '-rw-r--r-- pb-1.0.0/playbooks/roles/a/main.yml',
      '-rw-r--r-- pb-1.0.0/playbooks/roles/a/same.yml',
      '-rwxr-xr-x pb-1.0.0/playbooks/run.sh',
    ]);
    expect(member('first.tar', 'linked.yml')).toBe('- debug: {msg: a}\n');
    expect(member('first.tar', 'run.sh')).toBe('#!/bin/sh\necho hi\n');
  });

  it('a second build takes the unpacked files from the cache: the same tarball byte for byte', async () => {
    await build('second.tar');
    execFileSync('cmp', [out('first.tar'), out('second.tar')]);
    expect(execFileSync('sha256sum', ['-c', 'second.tar.sha256'], { cwd: join(tmp, 'out'), encoding: 'utf8' })).toBe('second.tar: OK\n');
  });

  it('when the cache lost one of its files, the archive is unpacked again: still the same tarball', async () => {
    const digest = sha256sum(join(tmp, 'src', 'kubespray-9.9.9', 'cluster.yml'));
    rmSync(join(tmp, 'cache', 'sha256', digest.slice(0, 2), digest));
    await build('third.tar');
    execFileSync('cmp', [out('first.tar'), out('third.tar')]);
    expect(readFileSync(join(tmp, 'cache', 'sha256', digest.slice(0, 2), digest), 'utf8')).toBe('- hosts: all\n  roles: [a]\n');
    expect(readdirSync(join(tmp, 'cache')).filter((n) => n.startsWith('work-'))).toEqual([]);
  });
});
