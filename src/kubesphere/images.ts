import { formatReference, parseReference } from '../images/reference.js';
import { kubesphereMinimalImages } from '../completeness/kubesphere.js';

/** One image the KubeSphere step makes nodes pull: the name they pull, and the name the bundle holds it under. */
export interface KubesphereImage {
  component: string;
  /** `10.0.0.1:5080/kubesphere/ks-apiserver:v3.4.1`: ks-installer's names with `local_registry` set. */
  pulled: string;
  /** `docker.io/kubesphere/ks-apiserver:v3.4.1`. */
  bundled: string;
}

/**
 * With `spec.local_registry` set, ks-installer's roles/download/defaults names every image `<local_registry>/<path>`
 * where `<path>` is its Docker Hub path (`kubesphere/ks-apiserver`, `prom/prometheus`), and the installer's own
 * Deployment is rewritten the same way. The mirror serves a name without a registry as Docker Hub's. Pure.
 */
export function kubesphereImages(kubeVersion: string, registry: string): KubesphereImage[] {
  return kubesphereMinimalImages(kubeVersion).map((i) => ({ component: i.component, pulled: throughRegistry(i.ref, registry), bundled: i.ref }));
}

/** `docker.io/kubesphere/x:t` → `<registry>/kubesphere/x:t`. */
export function throughRegistry(ref: string, registry: string): string {
  const r = parseReference(ref);
  return formatReference({ ...r, registry });
}
