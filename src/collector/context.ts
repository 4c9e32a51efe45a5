import type { Manifest } from '../manifest/types.js';
import type { ContentStore } from '../store/content-store.js';
import type { OnProgress } from '../progress/events.js';
import type { HttpClient } from '../net/client.js';
import type { BundleEntry } from '../bundle/entry.js';
import type { LockEntry } from '../lock/entry.js';
import type { Limiter } from '../util/concurrency.js';
import type { UnavailableReason } from '../errors.js';

export interface BuildContext {
  manifest: Manifest;
  store: ContentStore;
  /** Scratch space for generated files; removed after the build. */
  workDir: string;
  onProgress: OnProgress;
  signal?: AbortSignal;
  /**
   * Every request to an upstream goes through this one limiter, whichever collector makes it: `--concurrency n`
   * means n requests in flight for the whole build.
   */
  requests: Limiter;
  /** The command's one HTTP client (transport, TLS, proxy, retries, idle timeout). */
  http: HttpClient;
  /** With --locked: the previous lock's entries. A collector then fetches exactly these or fails saying what differs. */
  locked?: LockEntry[];
  /** The npm registry the Node.js runtime comes from (npm_config_registry); npm is asked when absent. */
  npmRegistry?: string;
  /** Registry credentials file given with --registry-auth (docker config.json format). */
  registryAuthFile?: string;
}

export interface KindOutput {
  entries: BundleEntry[];
  lock: LockEntry[];
}

/** The kinds `plan` reports, each with exactly these keys in `plan --json`. */
export const PLAN_KINDS = ['images', 'files', 'debs', 'wheels', 'manifests', 'playbooks', 'runtime'] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

export interface KindFigures {
  count: number;
  /** Bytes of the artifacts as the bundle will hold them (images: every blob once, manifests and configs included). */
  bytes: number;
  /** Of those, the bytes already in the content store: nothing to download. */
  cachedBytes: number;
}

/** One source tried for an artifact, and why it could not give it. */
export interface SourceTried {
  /** The full reference or URL, redacted. */
  source: string;
  error: UnavailableReason;
  /** The upstream's own words (status, registry error code), for people. */
  message: string;
}

export interface Unavailable {
  kind: PlanKind;
  /** The artifact as the manifest names it: an image reference, a file name, a package, a requirement. */
  name: string;
  tried: SourceTried[];
}

/**
 * A collector's first phase: everything resolved (tags to digests, closures, sizes) with no content downloaded, so
 * that `plan` can report it and `build` can check the disk before it fetches. `fetch` is the second phase; it is only
 * called when nothing is unavailable.
 */
export interface KindPlan {
  kinds: Partial<Record<PlanKind, KindFigures>>;
  /** Bytes the kind adds to the bundle besides its artifacts (indexes it generates), estimated. */
  generatedBytes?: number;
  unavailable: Unavailable[];
  fetch(): Promise<KindOutput>;
}

export type Collector = (ctx: BuildContext) => Promise<KindPlan>;
