// By its parts, not its index: the index brings validation, contrib helpers and types a build never uses.
import * as Enums from '@cyclonedx/cyclonedx-library/Enums';
import * as Models from '@cyclonedx/cyclonedx-library/Models';
import * as Serialize from '@cyclonedx/cyclonedx-library/Serialize';
import * as Spec from '@cyclonedx/cyclonedx-library/Spec';
import type { SbomArtifact } from './artifacts.js';

export interface SbomSubject {
  name: string;
  version: string;
  /** The tool that wrote it. */
  tool: string;
}

const TYPE: Record<SbomArtifact['kind'], Enums.ComponentType> = {
  image: Enums.ComponentType.Container,
  deb: Enums.ComponentType.Library,
  wheel: Enums.ComponentType.Library,
  file: Enums.ComponentType.File,
  manifest: Enums.ComponentType.File,
  playbooks: Enums.ComponentType.File,
  runtime: Enums.ComponentType.Application,
};

/**
 * CycloneDX 1.6 JSON of a bundle, through the CycloneDX library's models and serializer. No timestamp and no random
 * serial number: the same lock gives the same bytes, so the SBOM inside a reproducible bundle stays reproducible.
 */
export function renderCycloneDx(subject: SbomSubject, artifacts: SbomArtifact[]): string {
  const bom = new Models.Bom();
  bom.metadata.component = new Models.Component(Enums.ComponentType.Application, subject.name, { version: subject.version, bomRef: `bundle:${subject.name}@${subject.version}` });
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, subject.tool));
  for (const a of artifacts) {
    const c = new Models.Component(TYPE[a.kind], a.name, {
      bomRef: a.purl,
      version: a.version,
      // The library renders a purl with String(); ours keeps the spec's own spelling (see purl.ts).
      purl: a.purl as never,
      hashes: new Models.HashDictionary([[Enums.HashAlgorithm['SHA-256'], a.sha256]]),
    });
    if (a.downloadUrl) c.externalReferences.add(new Models.ExternalReference(a.downloadUrl, Enums.ExternalReferenceType.Distribution));
    if (a.licenseExpression) c.licenses.add(new Models.LicenseExpression(a.licenseExpression));
    else if (a.licenseName) c.licenses.add(new Models.NamedLicense(a.licenseName));
    bom.components.add(c);
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true, space: 2 }) + '\n';
}
