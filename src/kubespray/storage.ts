/**
 * Storage in kubespray v2.24.3's own terms: the external provisioners of roles/kubernetes-apps/external_provisioner,
 * each switched on by its `*_enabled` variable and naming its StorageClass by its own variable, with the provisioner
 * its StorageClass template writes. Exactly one class is the default, named by `ks_bundle_default_storage_class`:
 * kubespray marks only local-path's class as default (its `local_path_provisioner_is_default_storageclass`), so
 * ks-bundle sets that variable from the one key and marks any other class itself after the cluster step. Pure.
 */
export const DEFAULT_CLASS_KEY = 'ks_bundle_default_storage_class';

export interface StorageClassPlan {
  name: string;
  provisioner: string;
  default: boolean;
  /** The variable that switched it on. */
  enabledBy: string;
}

export interface StorageProblem {
  /** The variable the problem is about, to point at its line. */
  key: string;
  message: string;
}

export interface StoragePlan {
  classes: StorageClassPlan[];
  defaultClass?: string;
  /** Variables ks-bundle derives from the plan (never set by the user). */
  derived: Record<string, unknown>;
  problems: StorageProblem[];
}

interface Provisioner {
  enabledBy: string;
  provisioner: string;
  classNames: (vars: Readonly<Record<string, unknown>>) => string[];
}

const str = (v: unknown, fallback: string) => (typeof v === 'string' && v.trim() && !v.includes('{{') ? v.trim() : fallback);

const PROVISIONERS: readonly Provisioner[] = [
  { enabledBy: 'local_path_provisioner_enabled', provisioner: 'rancher.io/local-path', classNames: (v) => [str(v.local_path_provisioner_storage_class, 'local-path')] },
  {
    enabledBy: 'local_volume_provisioner_enabled',
    provisioner: 'kubernetes.io/no-provisioner',
    classNames: (v) => {
      const classes = v.local_volume_provisioner_storage_classes;
      if (classes && typeof classes === 'object' && !Array.isArray(classes)) return Object.keys(classes);
      return [str(v.local_volume_provisioner_storage_class, 'local-storage')];
    },
  },
  { enabledBy: 'rbd_provisioner_enabled', provisioner: 'ceph.com/rbd', classNames: (v) => [str(v.rbd_provisioner_storage_class, 'rbd')] },
  { enabledBy: 'cephfs_provisioner_enabled', provisioner: 'ceph.com/cephfs', classNames: (v) => [str(v.cephfs_provisioner_storage_class, 'cephfs')] },
];

/** Ansible's truthiness for a switch: true, yes, on, 1 (as YAML or as a string). */
export function isOn(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'string' && /^(true|yes|on|y|1)$/i.test(v.trim()));
}

/**
 * The classes the merged vars create and the one default. `needDefault`: something (KubeSphere) needs a default
 * class. `allInOne`: with no provisioner switched on, local-path is switched on and made the default.
 */
export function planStorage(vars: Readonly<Record<string, unknown>>, opts: { needDefault: boolean; allInOne: boolean }): StoragePlan {
  const problems: StorageProblem[] = [];
  const derived: Record<string, unknown> = {};
  const anyOn = PROVISIONERS.some((p) => isOn(vars[p.enabledBy]));
  const effective: Record<string, unknown> = { ...vars };
  if (!anyOn && opts.allInOne && opts.needDefault) {
    derived.local_path_provisioner_enabled = true;
    effective.local_path_provisioner_enabled = true;
  }
  const classes: StorageClassPlan[] = PROVISIONERS.filter((p) => isOn(effective[p.enabledBy])).flatMap((p) =>
    p.classNames(effective).map((name) => ({ name, provisioner: p.provisioner, default: false, enabledBy: p.enabledBy })),
  );
  const seen = new Map<string, string>();
  for (const c of classes) {
    const other = seen.get(c.name);
    if (other) problems.push({ key: c.enabledBy, message: `StorageClass "${c.name}" would be created by both ${other} and ${c.enabledBy}; give one of them another name` });
    seen.set(c.name, c.enabledBy);
  }
  let defaultClass: string | undefined;
  const named = vars[DEFAULT_CLASS_KEY];
  if (named !== undefined) {
    if (typeof named !== 'string' || !classes.some((c) => c.name === named)) {
      problems.push({
        key: DEFAULT_CLASS_KEY,
        message: `names ${JSON.stringify(named)}, which no enabled provisioner creates; the classes are: ${classes.map((c) => c.name).join(', ') || 'none (switch a provisioner on)'}`,
      });
    } else defaultClass = named;
  } else if (classes.length === 1) {
    defaultClass = classes[0]!.name;
  } else if (classes.length > 1 && opts.needDefault) {
    problems.push({ key: classes[1]!.enabledBy, message: `${classes.length} StorageClasses (${classes.map((c) => c.name).join(', ')}) and none named the default: set ${DEFAULT_CLASS_KEY}` });
  }
  if (!classes.length && opts.needDefault) {
    problems.push({
      key: DEFAULT_CLASS_KEY,
      message: 'KubeSphere needs a default StorageClass and no provisioner is switched on: set rbd_provisioner_enabled (Ceph) or local_path_provisioner_enabled, say',
    });
  }
  // kubespray's default (~) would write a StorageClass with no monitors: it cannot provision anything.
  if (isOn(effective.rbd_provisioner_enabled) && !(typeof effective.rbd_provisioner_monitors === 'string' && effective.rbd_provisioner_monitors.trim())) {
    problems.push({ key: 'rbd_provisioner_enabled', message: 'Ceph RBD is switched on and needs rbd_provisioner_monitors ("host:port,host:port")' });
  }
  for (const c of classes) c.default = c.name === defaultClass;
  // kubespray writes local-path's default annotation from this variable; every other class is marked by ks-bundle.
  if (isOn(effective.local_path_provisioner_enabled)) {
    derived.local_path_provisioner_is_default_storageclass = String(classes.some((c) => c.default && c.enabledBy === 'local_path_provisioner_enabled'));
  }
  return { classes, defaultClass, derived, problems };
}

/** Variables the storage plan owns: a user who sets them gets told to use the one key instead. */
export const DERIVED_STORAGE_KEYS = ['local_path_provisioner_is_default_storageclass'] as const;
