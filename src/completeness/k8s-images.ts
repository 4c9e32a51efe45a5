import yaml from 'js-yaml';
import { formatReference, parseReference } from '../images/reference.js';

/** One image a Kubernetes object will pull, normalised like docker, and where it was found. */
export interface FoundImage {
  image: string;
  /** `kind/name` and container: `Deployment/ks-installer (container installer)`. */
  object: string;
}

export interface ScanResult {
  images: FoundImage[];
  /** `image:` values that are not references (templating left in, typos): they cannot be checked, so they are reported. */
  invalid: Array<{ value: string; object: string; why: string }>;
}

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  PodTemplate: ['template', 'spec'],
};
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/**
 * Every `image:` of the workloads in a multi-document Kubernetes YAML (kind: List included), normalised the way the
 * kubelet's runtime resolves it (`busybox` → `docker.io/library/busybox:latest`). Pure; throws on YAML syntax errors.
 */
export function scanKubernetesYaml(text: string): ScanResult {
  const out: ScanResult = { images: [], invalid: [] };
  for (const doc of yaml.loadAll(text, undefined, { schema: yaml.CORE_SCHEMA })) visit(doc, out);
  return out;
}

function visit(doc: unknown, out: ScanResult): void {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return;
  const o = doc as Record<string, any>;
  if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
    for (const item of o.items) visit(item, out);
    return;
  }
  const path = POD_SPEC_PATHS[o.kind as string];
  if (!path) return;
  let spec: any = o;
  for (const k of path) spec = spec?.[k];
  if (!spec || typeof spec !== 'object') return;
  const name = `${o.kind}/${o.metadata?.name ?? '?'}`;
  for (const list of CONTAINER_LISTS) {
    for (const c of Array.isArray(spec[list]) ? spec[list] : []) {
      const object = `${name} (${list === 'containers' ? 'container' : list.replace(/s$/, '')} ${c?.name ?? '?'})`;
      if (typeof c?.image !== 'string') {
        if (list !== 'ephemeralContainers') out.invalid.push({ value: String(c?.image), object, why: 'no image' });
        continue;
      }
      try {
        out.images.push({ image: formatReference(parseReference(c.image)), object });
      } catch (err) {
        out.invalid.push({ value: c.image, object, why: (err as Error).message });
      }
    }
  }
}
