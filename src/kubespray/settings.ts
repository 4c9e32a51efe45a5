import { KUBESPRAY_VERSION, type Settings } from './release.js';

/**
 * What the default bundle installs with kubespray unless conf/vars.yml says otherwise (these are defaults: the
 * user's vars win): the Kubernetes line KubeSphere v3.4.1 supports (its README lists components supported on
 * 1.21–1.26) at the last 1.26 patch kubespray v2.24.3 has checksums for, and helm. Everything else keeps kubespray's
 * defaults (containerd, calico in kdd mode, etcd on the host, coredns with nodelocaldns, the nginx localhost load
 * balancer). Storage is planned from the user's vars (kubespray/storage.ts): all-in-one switches local-path on. The
 * local-path helper image gets a fixed tag instead of kubespray's `latest`, so the bundle's copy is the one asked for.
 */
export const BUNDLE_SETTINGS: Settings = {
  kube_version: 'v1.26.15',
  helm_enabled: true,
  local_path_provisioner_helper_image_tag: '1.36.1',
};

/** The file only kubespray's playbooks have: a bundle whose playbooks hold it installs with kubespray. */
export const KUBESPRAY_MARKER = 'playbooks/roles/kubespray-defaults/defaults/main/download.yml';

/**
 * Decided once, when a bundle is built, from the files it will hold, and recorded in its bundle.yaml: whether its
 * playbooks are kubespray, which release, and the settings its downloads were chosen for.
 */
export function kubesprayOfBuild(paths: Iterable<string>): { version: string; settings: Settings } | undefined {
  for (const p of paths) if (p === KUBESPRAY_MARKER) return { version: KUBESPRAY_VERSION, settings: BUNDLE_SETTINGS };
  return undefined;
}
