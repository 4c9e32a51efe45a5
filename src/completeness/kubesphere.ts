import { formatReference, parseReference } from '../images/reference.js';

/**
 * The images ks-installer v3.4.1 pulls for a minimal install (every optional component of cluster-configuration.yaml
 * off), from its roles/download/defaults/main.yml at tag v3.4.1 with `local_registry` unset (so the upstream names,
 * which containerd sends to the mirror): the ks-core images, the snapshot controller, and ks-monitor's stack, which
 * the minimal install always runs. kubectl's tag is chosen as roles/ks-core/config does: the first entry of
 * ks_kubectl_versions whose key the cluster's Kubernetes version reaches. Pure data and one lookup.
 */
export const KUBESPHERE_VERSION = 'v3.4.1';

const KUBECTL_VERSIONS: ReadonlyArray<[string, string]> = [
  ['v1.22.0', 'v1.22.0'],
  ['v1.21.0', 'v1.21.0'],
  ['v1.20.0', 'v1.20.0'],
  ['v1.19.0', 'v1.19.1'],
  ['v1.18.0', 'v1.18.0'],
  ['v1.17.0', 'v1.17.0'],
  ['v1.16.0', 'v1.16.0'],
  ['v1.15.0', 'v1.0.0'],
];

const MINIMAL: ReadonlyArray<[component: string, repo: string, tag: string]> = [
  ['ks_installer', 'kubesphere/ks-installer', KUBESPHERE_VERSION],
  ['ks_apiserver', 'kubesphere/ks-apiserver', KUBESPHERE_VERSION],
  ['ks_console', 'kubesphere/ks-console', KUBESPHERE_VERSION],
  ['ks_controller_manager', 'kubesphere/ks-controller-manager', KUBESPHERE_VERSION],
  ['snapshot_controller', 'csiplugin/snapshot-controller', 'v4.0.0'],
  ['configmap_reload', 'jimmidyson/configmap-reload', 'v0.7.1'],
  ['prometheus', 'prom/prometheus', 'v2.39.1'],
  ['prometheus_config_reloader', 'kubesphere/prometheus-config-reloader', 'v0.55.1'],
  ['prometheus_operator', 'kubesphere/prometheus-operator', 'v0.55.1'],
  ['kube_rbac_proxy', 'kubesphere/kube-rbac-proxy', 'v0.11.0'],
  ['kube_state_metrics', 'kubesphere/kube-state-metrics', 'v2.6.0'],
  ['node_exporter', 'prom/node-exporter', 'v1.3.1'],
  ['alertmanager', 'prom/alertmanager', 'v0.23.0'],
  ['notification_manager_operator', 'kubesphere/notification-manager-operator', 'v2.3.0'],
  ['notification_manager', 'kubesphere/notification-manager', 'v2.3.0'],
  ['notification_tenant_sidecar', 'kubesphere/notification-tenant-sidecar', 'v3.2.0'],
];

export function kubesphereMinimalImages(kubeVersion: string): Array<{ component: string; ref: string }> {
  const kubectl = KUBECTL_VERSIONS.find(([min]) => versionAtLeast(kubeVersion, min));
  if (!kubectl) throw new Error(`KubeSphere ${KUBESPHERE_VERSION} has no kubectl image for Kubernetes ${kubeVersion}`);
  return [...MINIMAL, ['ks_kubectl', 'kubesphere/kubectl', kubectl[1]] as const].map(([component, repo, tag]) => ({
    component,
    ref: formatReference(parseReference(`${repo}:${tag}`)),
  }));
}

function versionAtLeast(v: string, min: string): boolean {
  const a = v.replace(/^v/, '').split('.').map(Number);
  const b = min.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}
