/** One resolved artifact, as the lock records it. Everything needed to fetch exactly it again. */
export interface LockEntry {
  kind: 'file' | 'manifest' | 'playbooks' | 'runtime' | 'image' | 'blob' | 'deb' | 'wheel' | 'index';
  /** Unique within its kind: a file name, an image ref, `pkg=version:arch`, a wheel filename. */
  name: string;
  version?: string;
  /** Where it came from (never with credentials). */
  source: string;
  size: number;
  sha256: string;
  /** Kind-specific facts the collector needs to rebuild it exactly (media type, target, suite). */
  extra?: Record<string, unknown>;
}
