import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO } from './cli.js';

/**
 * The unmodified upstream trees the installer must match (kubespray v2.24.3, ks-installer v3.4.1), as release
 * tarballs beside the project: `../shared/upstream/` from its root (a git worktree one level deeper finds them one
 * level up), or where KS_BUNDLE_UPSTREAM_DIR says. Test data only: unpacked into a temp folder, never into the
 * project. Missing is a failure that names where they were looked for, never a skip.
 */
const CANDIDATES = [process.env.KS_BUNDLE_UPSTREAM_DIR, join(REPO, '..', 'shared', 'upstream'), join(REPO, '..', '..', 'shared', 'upstream')];

export const KUBESPRAY_TARBALL = 'kubespray-v2.24.3.tar.gz';
export const KS_INSTALLER_TARBALL = 'ks-installer-v3.4.1.tar.gz';

export function upstreamDir(): string {
  const dir = CANDIDATES.find((d): d is string => !!d && existsSync(join(d, 'SHA256SUMS')));
  if (!dir) throw new Error(`the upstream tarballs are missing: looked in ${CANDIDATES.filter(Boolean).join(', ')} (set KS_BUNDLE_UPSTREAM_DIR)`);
  return resolve(dir);
}

/** Unpack one tarball (checked against the SHA256SUMS beside it with sha256sum) into a new temp folder; its top folder. */
export function unpackUpstream(tarball: string, into = mkdtempSync(join(tmpdir(), 'ksb-upstream-'))): string {
  const dir = upstreamDir();
  execFileSync('sh', ['-c', 'grep -F " $1" SHA256SUMS | sha256sum -c --quiet -', 'sh', tarball], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', into]);
  const top = execFileSync('tar', ['-tzf', join(dir, tarball)], { maxBuffer: 1 << 26 }).toString().split('\n')[0]!.split('/')[0]!;
  return join(into, top);
}
