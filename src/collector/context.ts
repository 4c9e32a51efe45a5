import type { Manifest } from '../manifest/types.js';
import type { ContentStore } from '../store/content-store.js';
import type { OnProgress } from '../progress/events.js';
import type { HttpClient } from '../net/client.js';
import type { BundleEntry } from '../bundle/entry.js';
import type { LockEntry } from '../lock/entry.js';
import type { Limiter } from '../util/concurrency.js';

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

export type Collector = (ctx: BuildContext) => Promise<KindOutput>;
