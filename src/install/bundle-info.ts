import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { KsBundleError } from '../errors.js';
import { BUNDLE_YAML } from '../bundle/layout.js';
import { APT_REPO_ROOT, BUNDLE_KEY_FILE } from '../apt/repo.js';
import { readLayout } from '../images/layout.js';
import { parseReference } from '../images/reference.js';

const KUBESPRAY_MARKER = 'playbooks/roles/kubespray-defaults';

/** What the installer needs to know about an unpacked (and verified) bundle. */
export interface BundleInfo {
  dir: string;
  name: string;
  version: string;
  sha256sums: string;
  targets: Array<{ os: string; arch: string; python: string; codename: string }>;
  /** The apt repos the bundle serves, by os, with their suite. */
  aptRepos: Map<string, string>;
  aptKey?: string;
  /** Registries that have images in the bundle: containerd gets a hosts.toml for each unless kubespray owns containerd. */
  registries: string[];
  /** The bundle's playbooks are kubespray: its containerd role configures the registries (see kubesprayMirrorVars). */
  kubespray: boolean;
  /** What the taskbox venv gets from the mirror. */
  pipRequirements: string[];
  /** The packages InitInstaller installs on the taskbox from the mirror. */
  taskboxPackages: string[];
  playbookEntry?: string;
}

export async function readBundleInfo(dir: string): Promise<BundleInfo> {
  let meta: any;
  try {
    meta = yaml.load(await readFile(join(dir, BUNDLE_YAML), 'utf8'), { schema: yaml.CORE_SCHEMA });
  } catch {
    throw new KsBundleError('INVALID_INPUT', `${dir}: not an unpacked ks-bundle bundle (no readable ${BUNDLE_YAML})`);
  }
  const aptRepos = new Map<string, string>();
  for (const os of await readdir(join(dir, APT_REPO_ROOT)).catch(() => [] as string[])) {
    const dists = await readdir(join(dir, APT_REPO_ROOT, os, 'dists')).catch(() => [] as string[]);
    if (dists[0]) aptRepos.set(os, dists[0]);
  }
  const registries = new Set<string>();
  const layout = await readLayout(join(dir, 'repos', 'images')).catch(() => undefined);
  for (const repo of layout?.repos.keys() ?? []) registries.add(parseReference(repo).registry);
  const hasKey = await readFile(join(dir, APT_REPO_ROOT, BUNDLE_KEY_FILE)).then(() => true, () => false);
  const kubespray = await stat(join(dir, KUBESPRAY_MARKER)).then((s) => s.isDirectory(), () => false);
  return {
    dir,
    name: String(meta.name),
    version: String(meta.version),
    sha256sums: String(meta.sha256sums),
    targets: meta.targets ?? [],
    aptRepos,
    aptKey: hasKey ? join(dir, APT_REPO_ROOT, BUNDLE_KEY_FILE) : undefined,
    registries: [...registries].sort(),
    kubespray,
    pipRequirements: meta.installer?.pip ?? [],
    taskboxPackages: meta.installer?.apt ?? [],
    playbookEntry: meta.installer?.playbook,
  };
}
