import type { Problem } from '../errors.js';
import { parseYamlWithPositions, positionOf, type Position } from '../manifest/yaml-positions.js';
import { nearestName } from '../text/nearest.js';

/**
 * `conf/vars.yml`: a flat mapping of kubespray variables (and the few ks-bundle ones the README names), read with
 * limits, with the place of every key. The seed's 1.x storage keys are mapped to kubespray's where they map cleanly,
 * with a note; the rest of the seed's keys are errors that say why. Values of secret keys never appear in a
 * problem or a note. Pure.
 */
export type VarType = 'any' | 'bool' | 'number' | 'string' | 'list' | 'dict';

export interface VarsSchema {
  /** Every variable the playbooks read, with the type their defaults give it. */
  types: ReadonlyMap<string, VarType>;
  /** Variables ks-bundle sets, with why a user may not: `files_repo` → "the offline mirror's files". */
  owned: ReadonlyMap<string, string>;
}

export interface ParsedVars {
  /** The user's variables under kubespray's names (seed keys mapped). */
  vars: Record<string, unknown>;
  /** Where each variable of `vars` was written (a mapped seed key: where the seed key was). */
  lines: Map<string, number>;
  /** Deprecation notes for seed keys that were mapped or are ignored. */
  notes: string[];
  problems: Problem[];
}

/** ks-bundle's own variables in conf/vars.yml: read by ks-bundle, never handed to Ansible. */
export const KS_BUNDLE_USER_KEYS: ReadonlyMap<string, VarType> = new Map([
  ['ks_bundle_default_storage_class', 'string'],
  ['ks_bundle_kubesphere', 'dict'],
]);

/** A key whose value is a credential. */
export function isSecretKey(key: string): boolean {
  return /(secret|password|passwd|_pass$|token|jwt|_key$|credential)/i.test(key) && !/secret_?name$/i.test(key);
}

const DEFAULT_KEY = 'ks_bundle_default_storage_class';
const GLUSTER_WHY =
  'GlusterFS cannot be installed: the in-tree kubernetes.io/glusterfs provisioner was removed in Kubernetes 1.26, and kubespray v2.24.3 has no GlusterFS role; use rbd_provisioner_enabled (Ceph RBD) or cephfs_provisioner_enabled instead';

type Mapping =
  | { to: string; convert?: (v: unknown) => unknown }
  | { defaultClass: (vars: Record<string, unknown>) => string }
  | { gluster: true };

const rbd = (to: string, convert?: (v: unknown) => unknown): Mapping => ({ to, convert });
/** The seed's keys (ks-installer 1.x's offline conf/vars.yml) and what each is in kubespray v2.24.3. */
const SEED_KEYS: ReadonlyMap<string, Mapping> = new Map<string, Mapping>([
  ['local_volume_provisioner_is_default_class', { defaultClass: (v) => String(v.local_volume_provisioner_storage_class ?? 'local-storage') }],
  ['local_volume_is_default_class', { defaultClass: (v) => String(v.local_volume_provisioner_storage_class ?? 'local-storage') }],
  ['ceph_rbd_enabled', rbd('rbd_provisioner_enabled')],
  ['ceph_rbd_storage_class', rbd('rbd_provisioner_storage_class')],
  ['ceph_rbd_is_default_class', { defaultClass: (v) => String(v.rbd_provisioner_storage_class ?? 'rbd') }],
  // The seed lists monitors; kubespray's StorageClass template writes the value as it is, comma-separated.
  ['ceph_rbd_monitors', rbd('rbd_provisioner_monitors', (v) => (Array.isArray(v) ? v.join(',') : v))],
  ['ceph_rbd_admin_id', rbd('rbd_provisioner_admin_id')],
  ['ceph_rbd_admin_secret', rbd('rbd_provisioner_secret')],
  ['ceph_rbd_pool', rbd('rbd_provisioner_pool')],
  ['ceph_rbd_user_id', rbd('rbd_provisioner_user_id')],
  ['ceph_rbd_user_secret', rbd('rbd_provisioner_user_secret')],
  ['ceph_rbd_fsType', rbd('rbd_provisioner_fs_type')],
  ['ceph_rbd_imageFormat', rbd('rbd_provisioner_image_format', (v) => String(v))],
  ['ceph_rbd_imageFeatures', rbd('rbd_provisioner_image_features')],
  ...[
    'glusterfs_provisioner_enabled',
    'glusterfs_provisioner_storage_class',
    'glusterfs_provisioner_is_default_class',
    'glusterfs_is_default_class',
    'glusterfs_provisioner_resturl',
    'glusterfs_provisioner_clusterid',
    'glusterfs_provisioner_restauthenabled',
    'glusterfs_provisioner_restuser',
    'glusterfs_provisioner_secretName',
    'glusterfs_provisioner_gidMin',
    'glusterfs_provisioner_gidMax',
    'glusterfs_provisioner_volumetype',
    'jwt_admin_key',
  ].map((k): [string, Mapping] => [k, { gluster: true }]),
]);

const isTrue = (v: unknown) => v === true || (typeof v === 'string' && /^(true|yes|on)$/i.test(v.trim()));

/** Parse the text and map the seed's keys; problems for bad YAML, a key given twice, and GlusterFS switched on. */
export function parseVars(text: string, file: string): ParsedVars {
  const out: ParsedVars = { vars: {}, lines: new Map(), notes: [], problems: [] };
  const problem = (line: number, path: string, message: string) => out.problems.push({ file, line, column: 1, path, message });
  let located;
  try {
    located = parseYamlWithPositions(text, file);
  } catch (err) {
    const e = err as { message: string; line?: number; column?: number };
    out.problems.push({ file, line: e.line ?? 1, column: e.column ?? 1, path: '', message: e.message });
    return out;
  }
  const doc = located.value ?? {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    problem(1, '', 'must be a mapping of variable names to values');
    return out;
  }
  const lineOf = (k: string) => positionOf(located.positions, k).line;
  const user = doc as Record<string, unknown>;
  const defaults: Array<{ key: string; class: string }> = [];
  for (const [key, value] of Object.entries(user)) {
    const map = SEED_KEYS.get(key);
    if (!map) {
      if (out.lines.has(key)) problem(lineOf(key), key, `set twice: here and as a seed key at line ${out.lines.get(key)}`);
      out.vars[key] = value;
      out.lines.set(key, lineOf(key));
      continue;
    }
    if ('gluster' in map) {
      if ((key === 'glusterfs_provisioner_enabled' || key.endsWith('_is_default_class')) && isTrue(value)) problem(lineOf(key), key, GLUSTER_WHY);
      else out.notes.push(`${file}:${lineOf(key)}: ${key} is a 1.x key for GlusterFS, which cannot be installed on Kubernetes 1.26+; it is ignored (delete it)`);
      continue;
    }
    if ('defaultClass' in map) {
      if (isTrue(value)) defaults.push({ key, class: map.defaultClass({ ...mappedSoFar(user), ...out.vars }) });
      else if (value !== false && !/^(false|no|off)$/i.test(String(value))) problem(lineOf(key), key, 'must be true or false');
      out.notes.push(`${file}:${lineOf(key)}: ${key} is a 1.x key; write ${DEFAULT_KEY}: <class name> instead`);
      continue;
    }
    const to = map.to;
    if (key in user && to in user) {
      problem(lineOf(key), key, `${to} is set too (line ${lineOf(to)}): keep only ${to}`);
      continue;
    }
    out.vars[to] = map.convert ? map.convert(value) : value;
    out.lines.set(to, lineOf(key));
    out.notes.push(`${file}:${lineOf(key)}: ${key} is a 1.x key; it was read as kubespray's ${to} (rename it)`);
  }
  if (defaults.length) {
    const explicit = DEFAULT_KEY in user;
    if (defaults.length > 1 || explicit) {
      const where = [...defaults.map((d) => `${d.key} (line ${lineOf(d.key)})`), ...(explicit ? [`${DEFAULT_KEY} (line ${lineOf(DEFAULT_KEY)})`] : [])];
      problem(lineOf(defaults[defaults.length - 1]!.key), defaults[defaults.length - 1]!.key, `exactly one storage class may be the default, and ${where.join(' and ')} each name one`);
    } else {
      out.vars[DEFAULT_KEY] = defaults[0]!.class;
      out.lines.set(DEFAULT_KEY, lineOf(defaults[0]!.key));
    }
  }
  // A mapped seed key is placed where it was written; ks_bundle_kubesphere's nested keys keep their own lines.
  for (const [path] of located.positions) if (path.startsWith('ks_bundle_kubesphere.')) out.lines.set(path, lineOf(path));
  return out;
}

/** The seed's rbd keys already mapped, for a default-class key that comes before them. */
function mappedSoFar(user: Record<string, unknown>): Record<string, unknown> {
  const v: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(user)) {
    const m = SEED_KEYS.get(k);
    if (m && 'to' in m) v[m.to] = val;
  }
  return v;
}

/** Unknown keys (with the nearest known name), wrong types and ks-bundle's own keys, all at once. */
export function checkVars(parsed: ParsedVars, file: string, schema: VarsSchema): Problem[] {
  const problems: Problem[] = [];
  const known = [...schema.types.keys(), ...KS_BUNDLE_USER_KEYS.keys()];
  for (const [key, value] of Object.entries(parsed.vars)) {
    const line = parsed.lines.get(key) ?? 1;
    const add = (message: string) => problems.push({ file, line, column: 1, path: key, message });
    const owned = schema.owned.get(key);
    if (owned !== undefined) {
      add(`is set by ks-bundle (${owned}); setting it here would break the offline install, so delete it`);
      continue;
    }
    const type = KS_BUNDLE_USER_KEYS.get(key) ?? schema.types.get(key);
    if (type === undefined) {
      const near = nearestName(key, known);
      add(`not a variable the bundle's playbooks read${near ? `; did you mean ${near}?` : ''}`);
      continue;
    }
    const wrong = typeProblem(value, type);
    if (wrong) add(isSecretKey(key) ? wrong.replace(/, not .*$/, '') : wrong);
  }
  return problems;
}

function typeProblem(v: unknown, type: VarType): string | undefined {
  const shown = () => (JSON.stringify(v) ?? String(v)).slice(0, 60);
  switch (type) {
    case 'any':
      return undefined;
    case 'bool':
      return typeof v === 'boolean' || (typeof v === 'string' && /^(true|false|yes|no)$/i.test(v)) ? undefined : `must be true or false, not ${shown()}`;
    case 'number':
      return typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) ? undefined : `must be a number, not ${shown()}`;
    case 'string':
      if (typeof v === 'string') return undefined;
      // YAML reads 1.10 as the number 1.1: a version or a name written as a number is refused, quoted it is kept.
      if (typeof v === 'number' && Number.isInteger(v)) return undefined;
      return typeof v === 'number' ? `must be a string: YAML read it as the number ${v}; quote it` : `must be a string, not ${shown()}`;
    case 'list':
      return Array.isArray(v) ? undefined : `must be a list, not ${shown()}`;
    case 'dict':
      return v && typeof v === 'object' && !Array.isArray(v) ? undefined : `must be a mapping, not ${shown()}`;
  }
}

/** A copy with every secret value replaced by `***`, for logs, the plan and the state file. */
export function redactVars(vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? '***' : v;
  return out;
}

export type { Position };
