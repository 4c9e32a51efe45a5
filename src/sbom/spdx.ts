import { createHash } from 'node:crypto';
import type { SbomArtifact } from './artifacts.js';
import type { SbomSubject } from './cyclonedx.js';

/** `YYYY-MM-DDThh:mm:ssZ`, as SPDX 2.3 wants its timestamps (no fraction of a second). */
export function spdxTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** SPDX ids allow letters, digits, `.` and `-` only. */
const spdxId = (s: string) => 'SPDXRef-' + s.replace(/[^A-Za-z0-9.-]+/g, '-');

/** A licence expression SPDX reads as is: ids joined by AND/OR/WITH, with parentheses. Anything else is NOASSERTION. */
const SPDX_EXPR = /^[A-Za-z0-9.+-]+(?:\s+(?:AND|OR|WITH)\s+[A-Za-z0-9.+-]+)*$/;

/**
 * SPDX 2.3 JSON of a bundle: one package per artifact, each with its SHA-256, its purl as an external reference,
 * its download URL (or NOASSERTION) and its declared licence where the upstream states an SPDX expression. Pure
 * (the creation time comes in).
 */
export function renderSpdx(subject: SbomSubject, artifacts: SbomArtifact[], created: Date): string {
  const root = spdxId(`bundle-${subject.name}-${subject.version}`);
  const ids = new Map<SbomArtifact, string>();
  const used = new Set<string>([root]);
  for (const a of artifacts) {
    let id = spdxId(`${a.kind}-${a.name}-${a.version ?? ''}`.replace(/-$/, ''));
    if (used.has(id)) id = spdxId(`${a.kind}-${createHash('sha256').update(a.purl).digest('hex').slice(0, 16)}`);
    used.add(id);
    ids.set(a, id);
  }
  const namespaceHash = createHash('sha256').update(artifacts.map((a) => a.purl + a.sha256).join('\n')).digest('hex').slice(0, 32);
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${subject.name}-${subject.version}`,
    documentNamespace: `https://spdx.org/spdxdocs/ks-bundle/${encodeURIComponent(subject.name)}-${encodeURIComponent(subject.version)}-${namespaceHash}`,
    creationInfo: { created: spdxTimestamp(created), creators: [`Tool: ${subject.tool}`] },
    documentDescribes: [root],
    packages: [
      {
        SPDXID: root,
        name: subject.name,
        versionInfo: subject.version,
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
        primaryPackagePurpose: 'ARCHIVE',
      },
      ...artifacts.map((a) => ({
        SPDXID: ids.get(a)!,
        name: a.name,
        ...(a.version ? { versionInfo: a.version } : {}),
        downloadLocation: a.downloadUrl ?? 'NOASSERTION',
        filesAnalyzed: false,
        checksums: [{ algorithm: 'SHA256', checksumValue: a.sha256 }],
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: a.licenseExpression && SPDX_EXPR.test(a.licenseExpression) ? a.licenseExpression : 'NOASSERTION',
        copyrightText: 'NOASSERTION',
        externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: a.purl }],
        primaryPackagePurpose: a.kind === 'image' ? 'CONTAINER' : a.kind === 'deb' || a.kind === 'wheel' ? 'LIBRARY' : a.kind === 'runtime' ? 'APPLICATION' : 'FILE',
      })),
    ],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: root },
      ...artifacts.map((a) => ({ spdxElementId: root, relationshipType: 'CONTAINS', relatedSpdxElement: ids.get(a)! })),
    ],
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
