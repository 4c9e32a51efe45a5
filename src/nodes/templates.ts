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
######################################################################
# Network
######################################################################
# The Kubernetes network plugin: calico (default) or flannel.
kube_network_plugin: calico

######################################################################
# Storage. At most one storage class may be the default
# (*_is_default_class: true).
######################################################################

# Local volume provisioner: disks of the node itself. All-in-one only:
# set local_volume_provisioner_enabled to false for a multi-node install
# and enable a shared storage below.
local_volume_provisioner_enabled: true
# The name of the storage class it creates.
local_volume_provisioner_storage_class: local
# The namespace the provisioner runs in.
local_volume_provisioner_namespace: kube-system
# Whether PVCs without a storage class get this one.
local_volume_provisioner_is_default_class: true
# The directory whose mounted disks become volumes.
local_volume_provisioner_base_dir: /mnt/disks

# Ceph RBD: volumes from an existing Ceph cluster.
ceph_rbd_enabled: false
# The name of the storage class it creates.
ceph_rbd_storage_class: rbd
# Whether PVCs without a storage class get this one.
ceph_rbd_is_default_class: false
# The Ceph monitors, host:port, e.g.
#   - 172.24.0.1:6789
#   - 172.24.0.2:6789
ceph_rbd_monitors:
  - SHOULD_BE_REPLACED
# The Ceph client that may create images in the pool.
ceph_rbd_admin_id: admin
# Its key, e.g. AQAnwihbXo+uDxAAD0HmWziVgTaAdai90IzZ6Q== (ceph auth get-key client.admin)
ceph_rbd_admin_secret: TYPE_ADMIN_ACCOUNT_HERE
# The pool the images are created in.
ceph_rbd_pool: rbd
# The Ceph client the nodes map images with.
ceph_rbd_user_id: admin
# Its key.
ceph_rbd_user_secret: TYPE_ADMIN_SECRET_HERE
# The filesystem made on a new image.
ceph_rbd_fsType: ext4
# The RBD image format: "1" or "2".
ceph_rbd_imageFormat: "1"
# Image features for format 2, e.g. layering.
# ceph_rbd_imageFeatures: layering

# GlusterFS: volumes from an existing GlusterFS cluster managed by Heketi.
glusterfs_provisioner_enabled: false
# The name of the storage class it creates.
glusterfs_provisioner_storage_class: glusterfs
# Whether PVCs without a storage class get this one.
glusterfs_provisioner_is_default_class: false
# The Heketi REST URL, e.g. http://192.168.0.4:8080
glusterfs_provisioner_resturl: SHOULD_BE_REPLACED
# The Heketi cluster id, e.g. 6a6792ed25405eaa6302da99f2f5e24b (heketi-cli cluster list)
glusterfs_provisioner_clusterid: SHOULD_BE_REPLACED
# Whether Heketi asks for a user and key.
glusterfs_provisioner_restauthenabled: true
# The Heketi user.
glusterfs_provisioner_restuser: admin
# The Kubernetes secret that will hold the Heketi key.
glusterfs_provisioner_secretName: heketi-secret
# The range of GIDs given to volumes.
glusterfs_provisioner_gidMin: 40000
glusterfs_provisioner_gidMax: 50000
# The volume type, e.g. replicate:2 or none.
glusterfs_provisioner_volumetype: replicate:2
# The Heketi admin key (jwt_admin_key), e.g. 123456
jwt_admin_key: SHOULD_BE_REPLACED
`;
