import * as CDX from '@cyclonedx/cyclonedx-library';
import type { SbomArtifact } from './artifacts.js';

export interface SbomSubject {
  name: string;
  version: string;
  /** The tool that wrote it. */
  tool: string;
}

const TYPE: Record<SbomArtifact['kind'], CDX.Enums.ComponentType> = {
  image: CDX.Enums.ComponentType.Container,
  deb: CDX.Enums.ComponentType.Library,
  wheel: CDX.Enums.ComponentType.Library,
  file: CDX.Enums.ComponentType.File,
  manifest: CDX.Enums.ComponentType.File,
  playbooks: CDX.Enums.ComponentType.File,
  runtime: CDX.Enums.ComponentType.Application,
};

/**
 * CycloneDX 1.6 JSON of a bundle, through the CycloneDX library's models and serializer. No timestamp and no random
 * serial number: the same lock gives the same bytes, so the SBOM inside a reproducible bundle stays reproducible.
 */
export function renderCycloneDx(subject: SbomSubject, artifacts: SbomArtifact[]): string {
  const bom = new CDX.Models.Bom();
  bom.metadata.component = new CDX.Models.Component(CDX.Enums.ComponentType.Application, subject.name, { version: subject.version, bomRef: `bundle:${subject.name}@${subject.version}` });
  bom.metadata.tools.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.Application, subject.tool));
  for (const a of artifacts) {
    const c = new CDX.Models.Component(TYPE[a.kind], a.name, {
      bomRef: a.purl,
      version: a.version,
      // The library renders a purl with String(); ours keeps the spec's own spelling (see purl.ts).
      purl: a.purl as never,
      hashes: new CDX.Models.HashDictionary([[CDX.Enums.HashAlgorithm['SHA-256'], a.sha256]]),
    });
    if (a.downloadUrl) c.externalReferences.add(new CDX.Models.ExternalReference(a.downloadUrl, CDX.Enums.ExternalReferenceType.Distribution));
    if (a.licenseExpression) c.licenses.add(new CDX.Models.LicenseExpression(a.licenseExpression));
    else if (a.licenseName) c.licenses.add(new CDX.Models.NamedLicense(a.licenseName));
    bom.components.add(c);
  }
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true, space: 2 }) + '\n';
}
