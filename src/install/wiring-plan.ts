import { readFile } from 'node:fs/promises';
import type { NodeSession } from '../nodes/session.js';
import type { FileChange } from '../nodes/wiring.js';
import { aptSource, containerdHostsPath, containerdHostsToml, mergeDaemonJson, pipConf } from '../nodes/wiring-files.js';
import { NODE_KEYRING_PATH } from '../apt/repo.js';
import { KsBundleError } from '../errors.js';
import type { BundleInfo } from './bundle-info.js';

export const KS_SOURCE = '/etc/apt/sources.list.d/ks-bundle.sources';

/** The apt part of wiring: the bundle's key and source, and every other source moved aside (kept for restore). */
export async function aptChanges(s: NodeSession, info: BundleInfo, os: string, mirrorUrl: string): Promise<FileChange[]> {
  const suite = info.aptRepos.get(os);
  if (!suite || !info.aptKey) {
    throw new KsBundleError('FAILED', `${s.name}: the bundle has no apt repo for ${os}`, { hint: `It has: ${[...info.aptRepos.keys()].join(', ') || 'none'}. Build it with a target for ${os}.` });
  }
  const others = (await s.exec('ls -1 /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null', { allowFail: true })).stdout
    .split('\n')
    .filter((p) => p && p !== KS_SOURCE);
  return [
    { path: NODE_KEYRING_PATH, content: await readFile(info.aptKey), mode: 0o644 },
    { path: KS_SOURCE, content: aptSource({ mirrorUrl, repo: os, suites: [suite], components: ['main'], signedBy: NODE_KEYRING_PATH }) },
    ...others.map((path) => ({ path, remove: true as const })),
  ];
}

export function pipChanges(mirrorUrl: string): FileChange[] {
  return [{ path: '/etc/pip.conf', content: pipConf({ mirrorUrl }) }];
}

/**
 * containerd for every registry with images in the bundle, unless the bundle installs with kubespray: then kubespray's
 * containerd role owns /etc/containerd, configured through the mirror vars (kubesprayMirrorVars), and a file written
 * here would be rewritten by it (and deleted again by `nodes restore`). docker's daemon.json only where docker is
 * installed.
 */
export async function registryChanges(s: NodeSession, info: BundleInfo, mirrorUrl: string): Promise<FileChange[]> {
  const changes: FileChange[] = info.kubespray ? [] : containerdChanges(info.registries, mirrorUrl);
  const docker = (await s.exec('command -v dockerd >/dev/null 2>&1 || [ -d /etc/docker ] && echo yes', { allowFail: true })).stdout.trim() === 'yes';
  if (docker) {
    const existing = (await s.readFile('/etc/docker/daemon.json'))?.toString('utf8');
    let merged: string;
    try {
      merged = mergeDaemonJson(existing, { mirrorUrl });
    } catch (err) {
      throw new KsBundleError('FAILED', `${s.name}: /etc/docker/daemon.json: ${(err as Error).message}`, { hint: 'Fix the file by hand; ks-bundle never replaces a file it cannot read.' });
    }
    changes.push({ path: '/etc/docker/daemon.json', content: merged });
  }
  return changes;
}

function containerdChanges(registries: readonly string[], mirrorUrl: string): FileChange[] {
  return registries.map((r) => ({ path: containerdHostsPath(r), content: containerdHostsToml({ mirrorUrl }) }));
}
