import { FORMAT_VERSION } from '../../src/bundle/layout.js';
import type { BundleMeta } from '../../src/bundle/meta.js';

/** bundle.yaml for a test bundle written straight with writeBundle: valid, and empty but for its name and version. */
export function testMeta(name: string, version: string, more: Partial<BundleMeta> = {}): Omit<BundleMeta, 'sha256sums'> {
  return {
    apiVersion: 'ks-bundle/v1',
    kind: 'Bundle',
    formatVersion: FORMAT_VERSION,
    name,
    version,
    manifest: { file: 'test.yaml', sha256: '0'.repeat(64) },
    targets: [],
    counts: {},
    bytes: {},
    installer: { apt: [], pip: [] },
    aptRepos: {},
    registries: [],
    ...more,
  };
}
