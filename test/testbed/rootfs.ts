import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync, rmSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { debianMirrorUrl } from './apt-sources.js';
import { run } from './run.js';

export const ROOTFS_CACHE = '/var/cache/ks-bundle-test';
export const ROOTFS_PACKAGES = ['openssh-server', 'sudo', 'python3', 'iproute2'] as const;
const STAMP = '.ks-bundle-rootfs-stamp';

/**
 * A bookworm minbase tree with sshd, sudo, python3 and iproute2, built once and cached between runs.
 * Built in a temp dir next to its final place and renamed when complete, so a killed run leaves no half tree; the
 * stamp inside it records the package list, and a tree with another list is rebuilt.
 */
export async function ensureRootfs(opts: { cacheDir?: string; suite?: string; log?: (s: string) => void } = {}): Promise<string> {
  const cacheDir = opts.cacheDir ?? ROOTFS_CACHE;
  const suite = opts.suite ?? 'bookworm';
  const final = join(cacheDir, `rootfs-${suite}`);
  const want = stampText(suite);
  if (existsSync(join(final, STAMP)) && readFileSync(join(final, STAMP), 'utf8') === want) return final;

  mkdirSync(cacheDir, { recursive: true });
  // Leftovers of killed runs: temp trees whose builder is gone.
  for (const f of readdirSync(cacheDir)) {
    const m = /^rootfs-.*\.tmp-(\d+)$/.exec(f);
    if (m && !alive(Number(m[1]))) rmSync(join(cacheDir, f), { recursive: true, force: true });
  }
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const mirror = debianMirrorUrl(suite);
  const log = opts.log ?? (() => {});
  log(`debootstrap ${suite} from ${mirror}`);
  await run('debootstrap', ['--variant=minbase', suite, tmp, mirror]);
  // No service may start inside the chroot while packages are installed.
  writeFileSync(join(tmp, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
  await run('chroot', [tmp, 'apt-get', 'update'], { env });
  await run('chroot', [tmp, 'apt-get', 'install', '-y', '--no-install-recommends', ...ROOTFS_PACKAGES], { env });
  await run('chroot', [tmp, 'apt-get', 'clean'], { env });
  unlinkSync(join(tmp, 'usr/sbin/policy-rc.d'));
  // Every node generates its own host keys (ssh-keygen -A); a shared key would hide host-key bugs.
  for (const f of readdirSync(join(tmp, 'etc/ssh'))) {
    if (f.startsWith('ssh_host_')) unlinkSync(join(tmp, 'etc/ssh', f));
  }
  writeFileSync(join(tmp, STAMP), want);
  if (existsSync(final)) {
    const old = `${final}.old-${process.pid}`;
    renameSync(final, old);
    renameSync(tmp, final);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, final);
  }
  return final;
}

function stampText(suite: string): string {
  return `suite=${suite}\nvariant=minbase\npackages=${ROOTFS_PACKAGES.join(' ')}\n`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
