/**
 * What kubespray v2.24.3 downloads, transcribed from its published defaults so the completeness check and the mirror
 * vars can be computed rather than listed by hand:
 *   roles/kubespray-defaults/defaults/main/download.yml  (versions, *_download_url, *_image_repo/_tag, `downloads:`)
 *   roles/kubespray-defaults/defaults/main/main.yml      (component switches and their defaults)
 *   roles/download/templates/kubeadm-images.yaml.j2       (the kube-* images kubeadm pulls)
 * at tag v2.24.3 (commit 0b64ab15b54b7e4c8fd36114a7162b923b636817). Templates are kept in kubespray's own Jinja text;
 * `enabled` is the Jinja condition of the entry in `downloads:`, written as a function of the settings. Pure data.
 */
export const KUBESPRAY_VERSION = 'v2.24.3';
export const KUBESPRAY_COMMIT = '0b64ab15b54b7e4c8fd36114a7162b923b636817';

/** The settings an entry's `enabled` condition reads (kubespray variable names). */
export type Settings = Readonly<Record<string, string | boolean>>;

/** Defaults of the switches the conditions below read (main.yml and download.yml at v2.24.3). */
export const DEFAULT_SETTINGS: Settings = {
  kube_version: 'v1.28.14',
  container_manager: 'containerd',
  kube_network_plugin: 'calico',
  calico_datastore: 'kdd',
  etcd_deployment_type: 'host',
  dns_mode: 'coredns',
  enable_nodelocaldns: true,
  enable_network_policy: true,
  typha_enabled: false,
  calico_apiserver_enabled: false,
  kube_network_plugin_multus: false,
  loadbalancer_apiserver_localhost: true,
  loadbalancer_apiserver_type: 'nginx',
  kube_vip_enabled: false,
  helm_enabled: false,
  krew_enabled: false,
  registry_enabled: false,
  metrics_server_enabled: false,
  local_volume_provisioner_enabled: false,
  cephfs_provisioner_enabled: false,
  rbd_provisioner_enabled: false,
  local_path_provisioner_enabled: false,
  ingress_nginx_enabled: false,
  cert_manager_enabled: false,
  deploy_netchecker: false,
};

/** Plain version pins of download.yml at v2.24.3. */
export const VERSIONS: Readonly<Record<string, string>> = {
  runc_version: 'v1.1.14',
  containerd_version: '1.7.22',
  calico_version: 'v3.26.4',
  flannel_version: 'v0.22.0',
  flannel_cni_version: 'v1.1.2',
  cni_version: 'v1.3.0',
  pod_infra_version: '3.9',
  helm_version: 'v3.13.1',
  nerdctl_version: '1.7.7',
  krew_version: 'v0.4.4',
  nodelocaldns_version: '1.22.28',
  dnsautoscaler_version: 'v1.8.8',
  nginx_image_tag: '1.25.2-alpine',
  haproxy_image_tag: '2.8.2-alpine',
  local_volume_provisioner_version: 'v2.5.0',
  rbd_provisioner_version: 'v2.1.1-k8s1.11',
  cephfs_provisioner_version: 'v2.1.0-k8s1.11',
  local_path_provisioner_version: 'v0.0.24',
  metrics_server_version: 'v0.6.4',
  registry_version: '2.8.1',
};

/** `etcd_supported_versions` and `crictl_supported_versions`, by kube_major_version. */
export const ETCD_SUPPORTED: Readonly<Record<string, string>> = { 'v1.28': 'v3.5.16', 'v1.27': 'v3.5.16', 'v1.26': 'v3.5.16' };
export const CRICTL_SUPPORTED: Readonly<Record<string, string>> = { 'v1.28': 'v1.28.0', 'v1.27': 'v1.27.1', 'v1.26': 'v1.26.1' };

/** Upstream registries, as download.yml names them. */
export const IMAGE_REPO_DEFAULTS: Readonly<Record<string, string>> = {
  kube_image_repo: 'registry.k8s.io',
  gcr_image_repo: 'gcr.io',
  docker_image_repo: 'docker.io',
  quay_image_repo: 'quay.io',
  github_image_repo: 'ghcr.io',
};

const on = (s: Settings, k: string) => s[k] === true;
const calico = (s: Settings) => s.kube_network_plugin === 'calico';
const flannel = (s: Settings) => s.kube_network_plugin === 'flannel';
const containerd = (s: Settings) => s.container_manager === 'containerd';
const coredns = (s: Settings) => s.dns_mode === 'coredns' || s.dns_mode === 'coredns_dual';

export interface FileDownload {
  /** Key in kubespray's `downloads:`. */
  component: string;
  /** The variable that holds the URL; the mirror vars override it. */
  urlVar: string;
  /** kubespray's default URL template. */
  url: string;
  enabled: (s: Settings) => boolean;
}

export interface ImageDownload {
  component: string;
  repo: string;
  tag: string;
  enabled: (s: Settings) => boolean;
}

export const FILE_DOWNLOADS: readonly FileDownload[] = [
  { component: 'kubelet', urlVar: 'kubelet_download_url', url: 'https://dl.k8s.io/release/{{ kube_version }}/bin/linux/{{ image_arch }}/kubelet', enabled: () => true },
  { component: 'kubectl', urlVar: 'kubectl_download_url', url: 'https://dl.k8s.io/release/{{ kube_version }}/bin/linux/{{ image_arch }}/kubectl', enabled: () => true },
  { component: 'kubeadm', urlVar: 'kubeadm_download_url', url: 'https://dl.k8s.io/release/{{ kubeadm_version }}/bin/linux/{{ image_arch }}/kubeadm', enabled: () => true },
  {
    component: 'etcd',
    urlVar: 'etcd_download_url',
    url: 'https://github.com/etcd-io/etcd/releases/download/{{ etcd_version }}/etcd-{{ etcd_version }}-linux-{{ image_arch }}.tar.gz',
    enabled: (s) => s.etcd_deployment_type === 'host',
  },
  {
    component: 'cni',
    urlVar: 'cni_download_url',
    url: 'https://github.com/containernetworking/plugins/releases/download/{{ cni_version }}/cni-plugins-linux-{{ image_arch }}-{{ cni_version }}.tgz',
    enabled: () => true,
  },
  {
    component: 'calicoctl',
    urlVar: 'calicoctl_download_url',
    url: 'https://github.com/projectcalico/calico/releases/download/{{ calico_ctl_version }}/calicoctl-linux-{{ image_arch }}',
    enabled: calico,
  },
  {
    component: 'calico_crds',
    urlVar: 'calico_crds_download_url',
    url: 'https://github.com/projectcalico/calico/archive/{{ calico_version }}.tar.gz',
    enabled: (s) => calico(s) && s.calico_datastore === 'kdd',
  },
  {
    component: 'crictl',
    urlVar: 'crictl_download_url',
    url: 'https://github.com/kubernetes-sigs/cri-tools/releases/download/{{ crictl_version }}/crictl-{{ crictl_version }}-{{ ansible_system | lower }}-{{ image_arch }}.tar.gz',
    enabled: () => true,
  },
  { component: 'helm', urlVar: 'helm_download_url', url: 'https://get.helm.sh/helm-{{ helm_version }}-linux-{{ image_arch }}.tar.gz', enabled: (s) => on(s, 'helm_enabled') },
  { component: 'runc', urlVar: 'runc_download_url', url: 'https://github.com/opencontainers/runc/releases/download/{{ runc_version }}/runc.{{ image_arch }}', enabled: containerd },
  {
    component: 'nerdctl',
    urlVar: 'nerdctl_download_url',
    url: 'https://github.com/containerd/nerdctl/releases/download/v{{ nerdctl_version }}/nerdctl-{{ nerdctl_version }}-{{ ansible_system | lower }}-{{ image_arch }}.tar.gz',
    enabled: containerd,
  },
  {
    component: 'containerd',
    urlVar: 'containerd_download_url',
    url: 'https://github.com/containerd/containerd/releases/download/v{{ containerd_version }}/containerd-{{ containerd_version }}-linux-{{ image_arch }}.tar.gz',
    enabled: containerd,
  },
];

export const IMAGE_DOWNLOADS: readonly ImageDownload[] = [
  { component: 'etcd', repo: '{{ quay_image_repo }}/coreos/etcd', tag: '{{ etcd_version }}', enabled: (s) => s.etcd_deployment_type !== 'host' },
  { component: 'calico_node', repo: '{{ quay_image_repo }}/calico/node', tag: '{{ calico_version }}', enabled: calico },
  { component: 'calico_cni', repo: '{{ quay_image_repo }}/calico/cni', tag: '{{ calico_cni_version }}', enabled: calico },
  { component: 'calico_flexvol', repo: '{{ quay_image_repo }}/calico/pod2daemon-flexvol', tag: '{{ calico_flexvol_version }}', enabled: calico },
  { component: 'calico_policy', repo: '{{ quay_image_repo }}/calico/kube-controllers', tag: '{{ calico_policy_version }}', enabled: (s) => on(s, 'enable_network_policy') && calico(s) },
  { component: 'calico_typha', repo: '{{ quay_image_repo }}/calico/typha', tag: '{{ calico_typha_version }}', enabled: (s) => on(s, 'typha_enabled') },
  { component: 'calico_apiserver', repo: '{{ quay_image_repo }}/calico/apiserver', tag: '{{ calico_apiserver_version }}', enabled: (s) => on(s, 'calico_apiserver_enabled') },
  { component: 'flannel', repo: '{{ docker_image_repo }}/flannel/flannel', tag: '{{ flannel_version }}', enabled: flannel },
  { component: 'flannel_init', repo: '{{ docker_image_repo }}/flannel/flannel-cni-plugin', tag: '{{ flannel_cni_version }}', enabled: flannel },
  { component: 'pod_infra', repo: '{{ kube_image_repo }}/pause', tag: '{{ pod_infra_version }}', enabled: () => true },
  { component: 'nginx', repo: '{{ docker_image_repo }}/library/nginx', tag: '{{ nginx_image_tag }}', enabled: (s) => on(s, 'loadbalancer_apiserver_localhost') && s.loadbalancer_apiserver_type === 'nginx' },
  { component: 'haproxy', repo: '{{ docker_image_repo }}/library/haproxy', tag: '{{ haproxy_image_tag }}', enabled: (s) => on(s, 'loadbalancer_apiserver_localhost') && s.loadbalancer_apiserver_type === 'haproxy' },
  // coredns_version >= v1.7.1 is namespaced (`/coredns/coredns`, tag with its v): true for both versions v2.24.3 picks.
  { component: 'coredns', repo: '{{ kube_image_repo }}/coredns/coredns', tag: '{{ coredns_version }}', enabled: coredns },
  { component: 'nodelocaldns', repo: '{{ kube_image_repo }}/dns/k8s-dns-node-cache', tag: '{{ nodelocaldns_version }}', enabled: (s) => on(s, 'enable_nodelocaldns') },
  { component: 'dnsautoscaler', repo: '{{ kube_image_repo }}/cpa/cluster-proportional-autoscaler', tag: '{{ dnsautoscaler_version }}', enabled: coredns },
  { component: 'registry', repo: '{{ docker_image_repo }}/library/registry', tag: '{{ registry_version }}', enabled: (s) => on(s, 'registry_enabled') },
  { component: 'metrics_server', repo: '{{ kube_image_repo }}/metrics-server/metrics-server', tag: '{{ metrics_server_version }}', enabled: (s) => on(s, 'metrics_server_enabled') },
  {
    component: 'local_volume_provisioner',
    repo: '{{ kube_image_repo }}/sig-storage/local-volume-provisioner',
    tag: '{{ local_volume_provisioner_version }}',
    enabled: (s) => on(s, 'local_volume_provisioner_enabled'),
  },
  { component: 'cephfs_provisioner', repo: '{{ quay_image_repo }}/external_storage/cephfs-provisioner', tag: '{{ cephfs_provisioner_version }}', enabled: (s) => on(s, 'cephfs_provisioner_enabled') },
  { component: 'rbd_provisioner', repo: '{{ quay_image_repo }}/external_storage/rbd-provisioner', tag: '{{ rbd_provisioner_version }}', enabled: (s) => on(s, 'rbd_provisioner_enabled') },
  {
    component: 'local_path_provisioner',
    repo: '{{ docker_image_repo }}/rancher/local-path-provisioner',
    tag: '{{ local_path_provisioner_version }}',
    enabled: (s) => on(s, 'local_path_provisioner_enabled'),
  },
  // `kubeadm config images list | grep -Ev 'coredns|pause'` with etcd external (host deployment): these four.
  { component: 'kubeadm_kube-apiserver', repo: '{{ kube_image_repo }}/kube-apiserver', tag: '{{ kube_version }}', enabled: () => true },
  { component: 'kubeadm_kube-controller-manager', repo: '{{ kube_image_repo }}/kube-controller-manager', tag: '{{ kube_version }}', enabled: () => true },
  { component: 'kubeadm_kube-scheduler', repo: '{{ kube_image_repo }}/kube-scheduler', tag: '{{ kube_version }}', enabled: () => true },
  { component: 'kubeadm_kube-proxy', repo: '{{ kube_image_repo }}/kube-proxy', tag: '{{ kube_version }}', enabled: () => true },
];
