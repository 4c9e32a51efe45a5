/**
 * The templates of `conf/vars.yml` and `conf/hosts.ini` that a bundle ships, in the seed's format (KubeSphere's
 * offline installer): the user edits them on the taskbox before `./install.sh`. Validated by vars.ts and
 * validate-inventory.ts; the tests check that both templates pass as they are.
 */
export const HOSTS_INI_TEMPLATE = `; Parameters:
;  ansible_connection: connection type to the target machine (local for the taskbox itself)
;  ansible_host: the host name or address ks-bundle and Ansible connect to
;  ip: the address of the machine inside the cluster
;  ansible_user: the user name for the SSH connection
;  ansible_password: the password for the SSH connection (or use ansible_ssh_private_key_file)
;  ansible_become: yes when ansible_user is not root and must use sudo
;  ansible_become_user: the user sudo switches to (root)
;  ansible_become_pass: the password sudo asks for
;  ansible_port: the SSH port, if not 22
;
; Every host is listed once in [all] with its address; the groups below name hosts only.
; All-in-one: keep node1 alone in every group.
; Multi-node: node1 is the taskbox (where this bundle is unpacked), master and etcd; add nodes, e.g.
;  node2 ansible_host=192.168.0.3 ip=192.168.0.3 ansible_user=ubuntu ansible_become=yes ansible_become_user=root ansible_become_pass=PASSWORD
; and list them under [kube-node]. [etcd] needs an odd number of hosts.

[all]
node1 ansible_connection=local ip=192.168.0.2
node2 ansible_host=192.168.0.3 ip=192.168.0.3 ansible_user=ubuntu ansible_become=yes ansible_become_user=root ansible_become_pass=PASSWORD

[kube-master]
node1

[kube-node]
node2

[etcd]
node1

[k8s-cluster:children]
kube-node
kube-master
`;

export const VARS_YML_TEMPLATE = `---
# The cluster's settings, as variables of kubespray v2.24.3 (the playbooks in this bundle). Any variable of
# its roles/*/defaults or inventory/sample/group_vars may be set here; the README's "vars.yml reference" lists
# the common ones. ks-bundle refuses, naming the line, a name kubespray does not read, a value of the wrong
# type, and the variables it sets itself for the offline mirror (files_repo, *_download_url, *_image_repo,
# containerd_registries_mirrors, ...). See what the install will do with: ./install.sh --plan

######################################################################
# Network
######################################################################
# The network plugin; its images must be in the bundle (the install checks
# before it touches a node).
kube_network_plugin: calico

######################################################################
# Storage: exactly one StorageClass is the default (KubeSphere keeps its
# data there), the one named by ks_bundle_default_storage_class; with a
# single class, that one. All-in-one with no provisioner switched on below
# gets local-path-provisioner as the default.
######################################################################
# ks_bundle_default_storage_class: local-path

# local-path-provisioner: dynamic volumes in a folder of the node that runs
# the pod (the data stays on that node).
# local_path_provisioner_enabled: true
# local_path_provisioner_storage_class: local-path
# local_path_provisioner_claim_root: /opt/local-path-provisioner/

# local-volume-provisioner: one volume per disk mounted under the base dir.
# local_volume_provisioner_enabled: true
# local_volume_provisioner_storage_class: local-storage
# local_volume_provisioner_base_dir: /mnt/disks

# Ceph RBD (rbd-provisioner): volumes from an existing Ceph cluster.
# rbd_provisioner_enabled: true
# rbd_provisioner_monitors: "172.24.0.1:6789,172.24.0.2:6789"
# rbd_provisioner_pool: kube
# rbd_provisioner_admin_id: admin
# rbd_provisioner_secret: <ceph auth get-key client.admin>
# rbd_provisioner_user_id: kube
# rbd_provisioner_user_secret: <ceph auth get-key client.kube>
# rbd_provisioner_storage_class: rbd

######################################################################
# KubeSphere: keys of ks-installer's ClusterConfiguration spec to change
# (manifests/cluster-configuration.yaml in this bundle). ks-bundle sets
# local_registry, persistence.storageClass and telemetry_enabled itself.
######################################################################
# ks_bundle_kubesphere:
#   common:
#     core:
#       console:
#         port: 30880
`;
