import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleInfo } from '../../src/install/bundle-info.js';
import { planCluster } from '../../src/install/cluster-vars.js';
import { dumpVarsFile } from '../../src/install/vars-dump.js';
import { KUBESPRAY_VERSION } from '../../src/kubespray/release.js';
import { BUNDLE_SETTINGS } from '../../src/kubespray/settings.js';
import { VARS_YML_TEMPLATE } from '../../src/nodes/templates.js';
import { parseVars } from '../../src/nodes/vars.js';

/**
 * The vars file the installer hands `ansible-playbook -e @file` for a kubespray bundle, made by the installer's own
 * code (planCluster, then dumpVarsFile) from the conf/vars.yml the bundle ships, with the real kubespray tree as the
 * bundle's playbooks. Returns the file's path.
 */
export async function installerVarsFile(opts: { dir: string; kubespray: string; mirrorHost: string; port: number; varsYml?: string }): Promise<string> {
  const bundleDir = join(opts.dir, 'bundle-for-vars');
  mkdirSync(bundleDir, { recursive: true });
  symlinkSync(opts.kubespray, join(bundleDir, 'playbooks'));
  const info: BundleInfo = {
    dir: bundleDir,
    name: 'kubesphere',
    version: 'test',
    sha256sums: '',
    targets: [{ os: 'ubuntu-24.04', arch: 'amd64', python: '3.12', codename: 'noble' }, { os: 'debian-12', arch: 'amd64', python: '3.11', codename: 'bookworm' }],
    aptRepos: new Map([['ubuntu-24.04', 'noble'], ['debian-12', 'bookworm']]),
    registries: ['docker.io', 'quay.io', 'registry.k8s.io'],
    pipRequirements: [],
    taskboxPackages: [],
    playbookEntry: 'cluster.yml',
    kubespray: { version: KUBESPRAY_VERSION, settings: BUNDLE_SETTINGS },
  };
  const text = opts.varsYml ?? VARS_YML_TEMPLATE;
  const plan = await planCluster({ bundleDir, info, parsed: parseVars(text, 'conf/vars.yml'), varsFile: 'conf/vars.yml', mode: 'all-in-one', mirrorHost: opts.mirrorHost, port: opts.port });
  const file = join(opts.dir, 'installer-vars.yml');
  writeFileSync(file, dumpVarsFile(plan.extraVars));
  return file;
}
