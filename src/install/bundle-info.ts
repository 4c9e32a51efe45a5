import { join } from 'node:path';
import type { UnpackedBundle } from '../bundle/open.js';
import type { BundleTarget } from '../bundle/meta.js';
import { APT_REPO_ROOT, BUNDLE_KEY_FILE } from '../apt/repo.js';

/** What the installer needs to know about an unpacked, verified bundle: what its bundle.yaml recorded at build time. */
export interface BundleInfo {
  dir: string;
  name: string;
  version: string;
  sha256sums: string;
  targets: BundleTarget[];
  /** The apt repos the bundle serves, by os, with their suite. */
  aptRepos: Map<string, string>;
  /** The key that signed the bundle's apt repos; every bundle with apt repos has it. */
  aptKey?: string;
  /** Registries that have images in the bundle: containerd gets a hosts.toml for each unless kubespray owns containerd. */
  registries: string[];
  /** What the taskbox venv gets from the mirror. */
  pipRequirements: string[];
  /** The packages InitInstaller installs on the taskbox from the mirror. */
  taskboxPackages: string[];
  playbookEntry?: string;
  /**
   * Present when the playbooks are kubespray: the settings the bundle was built for. Its containerd role then
   * configures the registries (see kubesprayMirrorVars).
   */
  kubespray?: { version: string; settings: Record<string, string | boolean> };
}

export function bundleInfo({ dir, meta }: UnpackedBundle): BundleInfo {
  const aptRepos = new Map(Object.entries(meta.aptRepos).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    dir,
    name: meta.name,
    version: meta.version,
    sha256sums: meta.sha256sums,
    targets: meta.targets,
    aptRepos,
    aptKey: aptRepos.size ? join(dir, APT_REPO_ROOT, BUNDLE_KEY_FILE) : undefined,
    registries: [...meta.registries].sort(),
    pipRequirements: meta.installer.pip,
    taskboxPackages: meta.installer.apt,
    playbookEntry: meta.installer.playbook,
    kubespray: meta.kubespray,
  };
}
