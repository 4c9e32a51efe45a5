import type { Lock } from '../lock/lock.js';
import { PIP_ROOT } from '../pip/index-writer.js';
import { sbomArtifacts } from './artifacts.js';
import { renderCycloneDx, type SbomSubject } from './cyclonedx.js';
import { renderSpdx } from './spdx.js';

export type SbomFormat = 'cyclonedx' | 'spdx';

/** Where a wheel's METADATA sits in a bundle (it carries the licence). */
export function wheelMetadataPath(filename: string): string {
  return `${PIP_ROOT}/files/${filename}.metadata`;
}

/**
 * The SBOM of a bundle from its lock and the wheels' METADATA (`text(path in the bundle)`): the build writes the
 * CycloneDX one into the bundle, and `ks-bundle sbom` gives the same bytes from the verified bundle.
 */
export function bundleSbom(lock: Lock, text: (path: string) => string | undefined, format: SbomFormat = 'cyclonedx', created = new Date()): string {
  const subject: SbomSubject = { name: lock.manifest.name, version: lock.manifest.version, tool: 'ks-bundle' };
  const artifacts = sbomArtifacts(lock.artifacts, (f) => text(wheelMetadataPath(f)));
  return format === 'spdx' ? renderSpdx(subject, artifacts, created) : renderCycloneDx(subject, artifacts);
}
