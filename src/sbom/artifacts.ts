import type { LockEntry } from '../lock/entry.js';
import { parseMetadata } from '../pip/metadata.js';
import { purl } from './purl.js';

/** One artifact of a bundle as an SBOM lists it. */
export interface SbomArtifact {
  kind: 'image' | 'deb' | 'wheel' | 'file' | 'manifest' | 'playbooks' | 'runtime';
  name: string;
  version?: string;
  purl: string;
  sha256: string;
  /** Where it was fetched from, when that is a URL. */
  downloadUrl?: string;
  /** An SPDX license expression, when the upstream states one that is. */
  licenseExpression?: string;
  /** The upstream's own words for the licence, when they are not an SPDX expression. */
  licenseName?: string;
}

/** `docker.io/library/busybox:1.36[@sha256:…]` → registry/repo, tag. */
function splitImageName(name: string): { repository: string; tag?: string } {
  const at = name.indexOf('@');
  const ref = at >= 0 ? name.slice(0, at) : name;
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repository: ref };
}

const isUrl = (s: string) => /^(https?|ftp):\/\//.test(s);

/** `debian-12` → `debian`: the purl namespace of a deb is its distribution's vendor. */
function debVendor(os: unknown): string {
  return typeof os === 'string' && /^[a-z]+/.test(os) ? /^[a-z]+/.exec(os)![0] : 'debian';
}

/** Classifier names for licences whose SPDX id is unambiguous; others stay as the upstream's words. */
const CLASSIFIER_SPDX: Record<string, string> = {
  'MIT License': 'MIT',
  'Apache Software License': 'Apache-2.0',
  'Python Software Foundation License': 'PSF-2.0',
  'ISC License (ISCL)': 'ISC',
  'Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
};

/** What a wheel's METADATA says about its licence. Pure. */
export function wheelLicense(metadata: string | undefined): Pick<SbomArtifact, 'licenseExpression' | 'licenseName'> {
  if (!metadata) return {};
  const m = parseMetadata(metadata);
  if (m.licenseExpression) return { licenseExpression: m.licenseExpression };
  const names = m.licenseClassifiers.map((c) => c.split('::').at(-1)!.trim()).filter((n) => n && n !== 'OSI Approved');
  const ids = names.map((n) => CLASSIFIER_SPDX[n]);
  if (names.length && ids.every(Boolean)) return { licenseExpression: [...new Set(ids)].join(' OR ') };
  if (names.length) return { licenseName: names.join(', ') };
  const text = m.license?.trim();
  return text && !text.includes('\n') && text.length <= 80 ? { licenseName: text } : {};
}

/**
 * The artifacts of a lock, as users name them, each with its purl and sha256. Image layers are part of their
 * image (its digest covers them), and apt's index files are the mirror's, so neither is listed. Pure.
 */
export function sbomArtifacts(artifacts: LockEntry[], wheelMetadata: (filename: string) => string | undefined = () => undefined): SbomArtifact[] {
  const out: SbomArtifact[] = [];
  for (const a of artifacts) {
    const url = isUrl(a.source) ? a.source : undefined;
    const x = a.extra ?? {};
    switch (a.kind) {
      case 'image': {
        const { repository, tag } = splitImageName(a.name);
        const digest = typeof x['digest'] === 'string' ? x['digest'] : `sha256:${a.sha256}`;
        const last = repository.split('/').at(-1)!;
        out.push({ kind: 'image', name: a.name, version: digest, sha256: a.sha256, purl: purl('oci', undefined, last, digest, { repository_url: repository, ...(tag ? { tag } : {}) }) });
        break;
      }
      case 'deb': {
        const pkg = String(x['pkg'] ?? a.name);
        const arch = String(x['arch'] ?? '');
        out.push({ kind: 'deb', name: pkg, version: a.version, sha256: a.sha256, downloadUrl: url, purl: purl('deb', debVendor(x['os']), pkg, a.version, arch ? { arch } : {}) });
        break;
      }
      case 'wheel': {
        const project = String(x['project'] ?? a.name.split('-')[0]);
        out.push({ kind: 'wheel', name: project, version: a.version, sha256: a.sha256, downloadUrl: url, purl: purl('pypi', undefined, project, a.version), ...wheelLicense(wheelMetadata(a.name)) });
        break;
      }
      case 'file':
      case 'manifest':
      case 'playbooks':
      case 'runtime':
        out.push({ kind: a.kind, name: a.name, version: a.version, sha256: a.sha256, downloadUrl: url, purl: purl('generic', undefined, a.name, a.version, url ? { download_url: url } : {}) });
        break;
      default:
        break;
    }
  }
  return out.sort((p, q) => (p.purl < q.purl ? -1 : p.purl > q.purl ? 1 : 0));
}
