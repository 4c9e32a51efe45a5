import { kubesprayMirrorVars, mirrorRegistry } from '../kubespray/mirror-vars.js';
import type { BundleInfo } from './bundle-info.js';

/** The variables every playbook run gets: the ones the mirror owns, and defaults the user's vars may override. */
export interface InstallMirrorVars {
  mirrorOwned: Record<string, unknown>;
  defaults: Record<string, unknown>;
}

/**
 * Where the mirror serves each kind, for any playbook (`ks_bundle_*`), and kubespray's offline variables when the
 * bundle's playbooks are kubespray (bundle.yaml says so). One object each, so no key is written twice.
 */
export function installMirrorVars(info: BundleInfo, mirror: { host: string; port: number }): InstallMirrorVars {
  const registry = mirrorRegistry(mirror.host, mirror.port);
  const base = `http://${registry}`;
  const generic: Record<string, unknown> = {
    ks_bundle_mirror: base,
    ks_bundle_registry: registry,
    ks_bundle_registries: info.registries,
    ks_bundle_files_url: `${base}/files`,
    ks_bundle_pip_index_url: `${base}/pypi/simple/`,
    ks_bundle_apt_repos: Object.fromEntries([...info.aptRepos.keys()].map((os) => [os, `${base}/apt/${os}`])),
  };
  if (!info.kubespray) return { mirrorOwned: generic, defaults: {} };
  const k = kubesprayMirrorVars({ mirrorHost: mirror.host, port: mirror.port, bundle: { targets: info.targets } });
  return {
    mirrorOwned: {
      ...generic,
      ...k.mirrorOwned,
      // local-path-provisioner's helper pod image is named in its ConfigMap, not through an *_image_repo: it is
      // pointed at the mirror's copy of Docker Hub's busybox the same way.
      local_path_provisioner_helper_image_repo: '{{ docker_image_repo }}/library/busybox',
    },
    defaults: k.nodeDefaults,
  };
}
