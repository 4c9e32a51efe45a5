import { describe, expect, it } from 'vitest';
import { planStorage } from '../../../src/kubespray/storage.js';

const KS = { needDefault: true, allInOne: false };

describe('planStorage', () => {
  it('all-in-one with no provisioner switched on gets local-path, the default, marked by kubespray\'s own variable', () => {
    const p = planStorage({}, { needDefault: true, allInOne: true });
    expect(p.problems).toEqual([]);
    expect(p.classes).toEqual([{ name: 'local-path', provisioner: 'rancher.io/local-path', default: true, enabledBy: 'local_path_provisioner_enabled' }]);
    expect(p.defaultClass).toBe('local-path');
    expect(p.derived).toEqual({ local_path_provisioner_enabled: true, local_path_provisioner_is_default_storageclass: 'true' });
  });

  it('one class is the default by itself; two need ks_bundle_default_storage_class, which must name one of them', () => {
    expect(planStorage({ rbd_provisioner_enabled: true, rbd_provisioner_monitors: 'm:6789' }, KS).defaultClass).toBe('rbd');
    const two = { rbd_provisioner_enabled: true, rbd_provisioner_monitors: 'm:6789', local_path_provisioner_enabled: 'true' };
    expect(planStorage(two, KS).problems.map((x) => x.key)).toEqual(['rbd_provisioner_enabled']);
    const named = planStorage({ ...two, ks_bundle_default_storage_class: 'rbd' }, KS);
    expect(named.problems).toEqual([]);
    expect(named.classes.map((c) => [c.name, c.default])).toEqual([
      ['local-path', false],
      ['rbd', true],
    ]);
    // kubespray would mark local-path as default by its own default ("true"): ks-bundle turns that off.
    expect(named.derived).toEqual({ local_path_provisioner_is_default_storageclass: 'false' });
    const wrong = planStorage({ ...two, ks_bundle_default_storage_class: 'ceph' }, KS);
    expect(wrong.problems.map((x) => x.key)).toEqual(['ks_bundle_default_storage_class']);
    expect(wrong.problems[0]!.message).toContain('local-path, rbd');
  });

  it("the local volume provisioner's class comes from kubespray's variables; a class name used twice is an error", () => {
    expect(planStorage({ local_volume_provisioner_enabled: true, local_volume_provisioner_storage_class: 'disks' }, KS).classes[0]).toMatchObject({ name: 'disks', provisioner: 'kubernetes.io/no-provisioner', default: true });
    const clash = planStorage({ local_volume_provisioner_enabled: true, local_volume_provisioner_storage_class: 'x', local_path_provisioner_enabled: true, local_path_provisioner_storage_class: 'x', ks_bundle_default_storage_class: 'x' }, KS);
    expect(clash.problems[0]!.message).toContain('StorageClass "x" would be created by both');
  });

  it('multi-node with KubeSphere and no storage is an error; without KubeSphere it is fine', () => {
    expect(planStorage({}, KS).problems.map((x) => x.key)).toEqual(['ks_bundle_default_storage_class']);
    expect(planStorage({}, { needDefault: false, allInOne: false })).toMatchObject({ problems: [], classes: [], derived: {} });
  });

  it('Ceph RBD switched on needs its monitors', () => {
    expect(planStorage({ rbd_provisioner_enabled: true }, KS).problems.map((x) => x.key)).toEqual(['rbd_provisioner_enabled']);
  });
});
