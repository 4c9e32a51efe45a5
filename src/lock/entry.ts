/** One resolved artifact, as the lock records it. Everything needed to fetch exactly it again. */
export interface LockEntry {
  kind: 'file' | 'manifest' | 'playbooks' | 'runtime' | 'image' | 'blob' | 'deb' | 'wheel' | 'index';
  /** Unique within its kind: a file name, an image ref, `pkg=version:arch`, a wheel filename. */
  name: string;
  version?: string;
  /**
   * For an artifact the manifest pins by URL (a file, a manifest, the playbooks archive, a runtime tarball): that
   * original URL, redacted. `source` then says which URL gave the bytes, an alternate's when the original did not.
   */
  url?: string;
  /** Where it came from (never with credentials): the full reference or URL actually fetched. */
  source: string;
  size: number;
  sha256: string;
  /** Kind-specific facts the collector needs to rebuild it exactly (media type, target, suite). */
  extra?: Record<string, unknown>;
}
