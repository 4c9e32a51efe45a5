/** The manifest as the rest of the code sees it: validated, with shared upstreams from repos/ already resolved. */

export interface Target {
  /** e.g. debian-12, ubuntu-22.04 */
  os: string;
  arch: 'amd64' | 'arm64';
  /** Target interpreter, "3.11" */
  python: string;
  /** Distro facts from src/manifest/targets.ts, filled in by validation. */
  distro: 'debian' | 'ubuntu';
  codename: string;
  glibc: string;
  /** apt baseline: what the target already has. */
  baseline: 'none' | 'required' | { status: string };
}

export interface RegistrySettings {
  /** Plain HTTP: a registry that serves no TLS at all (one with its own CA wants `ca`). */
  insecure?: boolean;
  /** PEM file of a private CA (absolute, or relative to the manifest). */
  ca?: string;
  /** Pull this registry's images from another host[:port] (a pull-through cache or a copy); names stay as they are. */
  endpoint?: string;
}

export interface AptSource {
  name: string;
  url: string;
  suites: string[];
  components: string[];
  /** OpenPGP keyring file (binary or armored); absolute or relative to the file that named it. */
  keyring?: string;
  trusted?: boolean;
  /** Which targets this source is for (os names); all when absent. */
  for?: string[];
}

export interface AptSpec {
  sources: AptSource[];
  packages: string[];
  recommends: boolean;
  /** The bundle repo's signing key (an unprotected private key file); generated once per cache when absent. */
  signingKey?: string;
}

export interface PipSpec {
  index: string;
  requirements: string[];
}

export interface PinnedFile {
  url: string;
  sha256: string;
  /** Name in the bundle; the URL's last segment by default. */
  name: string;
}

export interface PlaybooksSpec {
  url?: string;
  path?: string;
  sha256?: string;
  entry: string;
}

export interface RuntimeSpec {
  /** npm: the official node-linux-<arch> builds from the npm registry; local: this machine's node; url: pinned per arch. */
  source: 'npm' | 'local' | 'url';
  version?: string;
  urls?: Record<string, { url: string; sha256: string }>;
}

/**
 * Other places the same content lives: an image reference prefix (`docker.io/kubesphere/` →
 * `registry.cn-beijing.aliyuncs.com/kubesphereio/`) or a URL prefix (files, playbooks, apt archives, pip indexes).
 * The original name is tried first, then each `to` in order; the bundle keeps the original name.
 */
export interface Alternate {
  prefix: string;
  to: string[];
}

export interface Manifest {
  /** Absolute path of the manifest file, and its sha256. */
  file: string;
  sha256: string;
  name: string;
  version: string;
  targets: Target[];
  runtime: RuntimeSpec;
  registries: Record<string, RegistrySettings>;
  images: string[];
  apt?: AptSpec;
  pip?: PipSpec;
  files: PinnedFile[];
  manifests: PinnedFile[];
  playbooks?: PlaybooksSpec;
  alternates: Alternate[];
}
