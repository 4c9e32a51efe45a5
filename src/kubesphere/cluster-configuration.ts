import yaml from 'js-yaml';
import { loadYamlLimited } from '../util/yaml.js';

/**
 * The ClusterConfiguration ks-bundle applies: ks-installer's own deploy/cluster-configuration.yaml from the bundle
 * (so every key is one ks-installer reads), with the user's changes from `ks_bundle_kubesphere` merged in, and the
 * three keys ks-bundle owns set: `spec.local_registry` (the mirror's registry), `spec.persistence.storageClass` (the
 * one default class) and `spec.telemetry_enabled: false` (read by ks-installer's playbooks/telemetry.yaml; the
 * installer would otherwise call kubesphere.io from inside the air gap). Pure.
 */
export const OWNED_SPEC_KEYS: ReadonlyMap<string, string> = new Map([
  ['local_registry', "the offline mirror's registry"],
  ['persistence.storageClass', 'the default StorageClass, from ks_bundle_default_storage_class'],
  ['telemetry_enabled', 'off: no call to kubesphere.io from the air gap'],
]);

export interface SpecProblem {
  /** `devops.enabled`, a path under spec. */
  path: string;
  message: string;
}

export interface RenderedClusterConfiguration {
  doc: Record<string, unknown>;
  text: string;
  problems: SpecProblem[];
  /** Components switched on that ks-installer's template has off (`devops`, `logging`, …). */
  enabledComponents: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

export function renderClusterConfiguration(templateText: string, opts: { registry: string; storageClass: string; userSpec?: unknown }): RenderedClusterConfiguration {
  const doc = loadYamlLimited(templateText, { filename: 'cluster-configuration.yaml' }) as Obj;
  if (!isObj(doc) || doc.kind !== 'ClusterConfiguration' || !isObj(doc.spec)) throw new Error('cluster-configuration.yaml: not a ClusterConfiguration with a spec');
  const template = doc.spec;
  const problems: SpecProblem[] = [];
  const enabledComponents: string[] = [];
  const spec = structuredClone(template) as Obj;
  if (opts.userSpec !== undefined) {
    if (!isObj(opts.userSpec)) problems.push({ path: '', message: 'must be a mapping of ClusterConfiguration spec keys' });
    else merge(spec, template, opts.userSpec, '', problems, enabledComponents);
  }
  spec.local_registry = opts.registry;
  spec.persistence = { ...(isObj(spec.persistence) ? spec.persistence : {}), storageClass: opts.storageClass };
  spec.telemetry_enabled = false;
  const out = { ...doc, spec };
  return { doc: out, text: yaml.dump(out, { lineWidth: 200, noRefs: true }), problems, enabledComponents };
}

function merge(into: Obj, template: Obj, user: Obj, prefix: string, problems: SpecProblem[], enabled: string[]): void {
  for (const [key, value] of Object.entries(user)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const owned = OWNED_SPEC_KEYS.get(path);
    if (owned) {
      problems.push({ path, message: `is set by ks-bundle (${owned}); delete it` });
      continue;
    }
    if (!(key in template)) {
      problems.push({ path, message: `not a key of ks-installer's ClusterConfiguration${prefix ? ` under ${prefix}` : ''}; it has: ${Object.keys(template).join(', ')}` });
      continue;
    }
    const t = template[key];
    if (isObj(t)) {
      if (!isObj(value)) problems.push({ path, message: 'must be a mapping' });
      else merge(into[key] as Obj, t, value, path, problems, enabled);
      continue;
    }
    // A key the template leaves empty (`advertiseAddress:` with no value) takes any value.
    if (t !== null && typeof t !== typeof value && !(Array.isArray(t) && Array.isArray(value))) {
      problems.push({ path, message: `must be ${Array.isArray(t) ? 'a list' : `a ${typeof t}`}, like ks-installer's ${JSON.stringify(t)}` });
      continue;
    }
    if (key === 'enabled' && value === true && t === false) enabled.push(prefix);
    into[key] = value;
  }
}
