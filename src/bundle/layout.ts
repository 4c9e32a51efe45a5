import { pathComponentProblem } from '../util/path-name.js';

/**
 * Names and rules of the bundle format. Bump FORMAT_VERSION whenever what a bundle holds changes meaning.
 * 2: bundle.yaml records the build's decisions (aptRepos, registries, kubespray, kubesphere), and its name and
 * version must be path components.
 * 3: a delta bundle (bundle.yaml `base`) lists in SHA256SUMS files it does not carry; they come from its base.
 */
export const FORMAT_VERSION = 3;
export const BUNDLE_YAML = 'bundle.yaml';
export const SUMS = 'SHA256SUMS';
export const LOCK = 'bundle.lock.yaml';
/** CycloneDX JSON of every artifact, listed in SHA256SUMS like any other file. */
export const SBOM = 'sbom.cdx.json';

/**
 * conf/ is the user's: hosts.ini, vars.yml and any file they add there (a second inventory, say) are edited before
 * installing, so SHA256SUMS does not cover them; the pristine `conf/*.example` templates are.
 */
export function isUserEditable(path: string): boolean {
  return path.startsWith('conf/') && !path.endsWith('.example');
}

/** Files that may be in the bundle without being listed in SHA256SUMS. */
export function isUncovered(path: string): boolean {
  return path === BUNDLE_YAML || path === SUMS || isUserEditable(path);
}

/** The bundle's top folder in the tarball, and its folder once unpacked. Only for checked names (meta.ts does). */
export function topDirName(name: string, version: string): string {
  const problem = pathComponentProblem(name) ?? pathComponentProblem(version);
  if (problem) throw new Error(`internal: an unchecked bundle name reached topDirName (${problem})`);
  return `${name}-${version}`;
}

/** A fixed time for every tar header, so the same lock gives the same bytes. 2000-01-01: after 0 so no tool warns. */
export const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

/** Written into an unpacked bundle once every byte matched; not part of the bundle itself. */
export const UNPACKED_MARKER = '.ks-bundle-verified';
