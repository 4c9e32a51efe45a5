import yaml from 'js-yaml';
import { ValidationError, type Problem } from '../errors.js';
import type { InstallMode } from './validate-inventory.js';

/**
 * `conf/vars.yml` with the seed's rules. Values of secret keys never appear in a problem, and `redactVars` gives
 * a copy safe to print or log.
 */
export type VarsValue = unknown;

export interface ClusterVars {
  /** Everything in the file, with the defaults below filled in. */
  all: Record<string, VarsValue>;
  networkPlugin: string;
  /** The storage class that is the default one, if any. */
  defaultStorageClass?: string;
  storage: { localVolume: boolean; cephRbd: boolean; glusterfs: boolean };
}

export const NETWORK_PLUGINS = ['calico', 'flannel'] as const;

const DEFAULTS: Record<string, VarsValue> = {
  kube_network_plugin: 'calico',
  local_volume_provisioner_enabled: false,
  local_volume_provisioner_storage_class: 'local',
  local_volume_provisioner_namespace: 'kube-system',
  local_volume_provisioner_base_dir: '/mnt/disks',
  ceph_rbd_enabled: false,
  ceph_rbd_storage_class: 'rbd',
  ceph_rbd_fsType: 'ext4',
  ceph_rbd_imageFormat: '1',
  glusterfs_provisioner_enabled: false,
  glusterfs_provisioner_storage_class: 'glusterfs',
  glusterfs_provisioner_restauthenabled: true,
};

const CEPH_REQUIRED = ['ceph_rbd_monitors', 'ceph_rbd_admin_id', 'ceph_rbd_admin_secret', 'ceph_rbd_pool', 'ceph_rbd_user_id', 'ceph_rbd_user_secret'];
const GLUSTER_REQUIRED = ['glusterfs_provisioner_resturl', 'glusterfs_provisioner_clusterid', 'glusterfs_provisioner_secretName', 'glusterfs_provisioner_gidMin', 'glusterfs_provisioner_gidMax', 'glusterfs_provisioner_volumetype'];
const GLUSTER_AUTH_REQUIRED = ['glusterfs_provisioner_restuser', 'jwt_admin_key'];

/** A key whose value is a credential. */
export function isSecretKey(key: string): boolean {
  return /(secret|password|passwd|_pass$|token|jwt|_key$|credential)/i.test(key) && !/secretName$/.test(key);
}

/** A template value the user was meant to replace. */
function placeholder(v: VarsValue): boolean {
  return typeof v === 'string' && /^(SHOULD_BE_REPLACED|TYPE_[A-Z_]+_HERE)$/.test(v.trim());
}

function missing(v: VarsValue): boolean {
  if (v === undefined || v === null || placeholder(v)) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.length === 0 || v.every((x) => missing(x));
  return false;
}

/** Ansible's truthiness for YAML booleans written as yes/no/on/off or strings. */
function bool(v: VarsValue): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (/^(yes|true|on|y|1)$/i.test(v.trim())) return true;
    if (/^(no|false|off|n|0|)$/i.test(v.trim())) return false;
  }
  if (v === 1 || v === 0) return v === 1;
  return undefined;
}

/** Line of a top-level key (the file is a flat mapping, as the seed's is). */
function lineOf(text: string, key: string): number {
  const lines = text.split('\n');
  const re = new RegExp(`^['"]?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]?\\s*:`);
  const i = lines.findIndex((l) => re.test(l));
  return i < 0 ? 1 : i + 1;
}

export function validateVars(text: string, opts: { mode: InstallMode; file?: string }): { vars?: ClusterVars; problems: Problem[] } {
  const file = opts.file ?? 'vars.yml';
  const problems: Problem[] = [];
  const add = (key: string, message: string, line = lineOf(text, key)): void => {
    problems.push({ file, line, column: 1, path: key, message });
  };
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file });
  } catch (e) {
    // js-yaml's message quotes the offending source line, which may hold a secret: use only the reason and place.
    const ye = e as { reason?: string; mark?: { line: number; column: number } };
    problems.push({ file, line: (ye.mark?.line ?? 0) + 1, column: (ye.mark?.column ?? 0) + 1, path: '', message: `not valid YAML: ${ye.reason ?? 'parse error'}` });
    return { problems };
  }
  if (doc === undefined || doc === null) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    problems.push({ file, line: 1, column: 1, path: '', message: 'must be a mapping of variable names to values' });
    return { problems };
  }
  const all: Record<string, VarsValue> = { ...DEFAULTS, ...(doc as Record<string, VarsValue>) };

  const flag = (key: string): boolean => {
    const b = bool(all[key]);
    if (b === undefined) {
      add(key, isSecretKey(key) ? 'must be true or false' : `must be true or false, not ${JSON.stringify(all[key])}`);
      return false;
    }
    return b;
  };

  const plugin = String(all['kube_network_plugin'] ?? 'calico');
  if (!(NETWORK_PLUGINS as readonly string[]).includes(plugin)) {
    add('kube_network_plugin', `unknown network plugin ${JSON.stringify(plugin)}; one of: ${NETWORK_PLUGINS.join(', ')}`);
  }

  const storage = {
    localVolume: flag('local_volume_provisioner_enabled'),
    cephRbd: flag('ceph_rbd_enabled'),
    glusterfs: flag('glusterfs_provisioner_enabled'),
  };

  // At most one default class. Every *_is_default_class counts, the seed's short names too.
  const defaults = Object.keys(all).filter((k) => k.endsWith('_is_default_class') && bool(all[k]) === true);
  for (const k of Object.keys(all).filter((k) => k.endsWith('_is_default_class'))) {
    if (bool(all[k]) === undefined) add(k, `must be true or false, not ${JSON.stringify(all[k])}`);
  }
  if (defaults.length > 1) {
    const where = defaults.map((k) => `${k} (line ${lineOf(text, k)})`).join(' and ');
    add(defaults[1]!, `at most one storage class may be the default: ${where} are both true`);
  }

  if (storage.localVolume && opts.mode !== 'all-in-one') {
    add('local_volume_provisioner_enabled', 'the local volume provisioner is for all-in-one only; set it to false for multi-node and enable a shared storage (Ceph RBD or GlusterFS)');
  }
  // A required key that is absent is reported at the line that enabled the storage.
  const has = (k: string): boolean => new RegExp(`^['"]?${k}['"]?\\s*:`, 'm').test(text);
  const need = (keys: string[], what: string, enabledKey: string): void => {
    for (const k of keys) if (missing(all[k])) add(k, `${what} is enabled and needs ${k}`, has(k) ? lineOf(text, k) : lineOf(text, enabledKey));
  };
  if (storage.cephRbd) {
    need(CEPH_REQUIRED, 'Ceph RBD', 'ceph_rbd_enabled');
    const fmt = String(all['ceph_rbd_imageFormat']);
    if (fmt !== '1' && fmt !== '2') add('ceph_rbd_imageFormat', `must be "1" or "2", not ${JSON.stringify(all['ceph_rbd_imageFormat'])}`);
  }
  if (storage.glusterfs) {
    need(GLUSTER_REQUIRED, 'GlusterFS', 'glusterfs_provisioner_enabled');
    if (bool(all['glusterfs_provisioner_restauthenabled'])) need(GLUSTER_AUTH_REQUIRED, 'GlusterFS', 'glusterfs_provisioner_enabled');
    const min = Number(all['glusterfs_provisioner_gidMin']);
    const max = Number(all['glusterfs_provisioner_gidMax']);
    if (!missing(all['glusterfs_provisioner_gidMin']) && !missing(all['glusterfs_provisioner_gidMax']) && !(Number.isInteger(min) && Number.isInteger(max) && min < max)) {
      add('glusterfs_provisioner_gidMax', `glusterfs_provisioner_gidMin (${String(all['glusterfs_provisioner_gidMin'])}) must be an integer below glusterfs_provisioner_gidMax (${String(all['glusterfs_provisioner_gidMax'])})`);
    }
  }
  problems.sort((a, b) => a.line - b.line);
  if (problems.length) return { problems };

  const classOf: Record<string, string> = {
    local_volume_provisioner_is_default_class: 'local_volume_provisioner_storage_class',
    local_volume_is_default_class: 'local_volume_provisioner_storage_class',
    ceph_rbd_is_default_class: 'ceph_rbd_storage_class',
    glusterfs_provisioner_is_default_class: 'glusterfs_provisioner_storage_class',
    glusterfs_is_default_class: 'glusterfs_provisioner_storage_class',
  };
  const vars: ClusterVars = { all, networkPlugin: plugin, storage };
  const d = defaults[0];
  if (d) vars.defaultStorageClass = String(all[classOf[d] ?? ''] ?? d.replace(/_is_default_class$/, ''));
  return { vars, problems };
}

/** Validate and return the vars, or throw one ValidationError listing every problem. */
export function loadVars(text: string, opts: { mode: InstallMode; file?: string }): ClusterVars {
  const { vars, problems } = validateVars(text, opts);
  if (!vars) throw new ValidationError(opts.file ?? 'vars.yml', problems, 'Edit conf/vars.yml; every problem above names its line.');
  return vars;
}

/** A copy with every secret value replaced by `***`, for logs and the state file. */
export function redactVars(vars: Record<string, VarsValue>): Record<string, VarsValue> {
  const out: Record<string, VarsValue> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? '***' : v;
  return out;
}
