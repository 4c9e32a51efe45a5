export { checkCompleteness, formatMissing, type BundleView, type CompletenessOptions, type CompletenessResult, type Missing } from './check.js';
export { viewOfBundleDir, viewOfManifest } from './bundle-view.js';
export { scanKubernetesYaml, type FoundImage, type ScanResult } from './k8s-images.js';
export { kubesphereMinimalImages } from './kubesphere.js';
