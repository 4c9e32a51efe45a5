import type { BuildContext } from '../../src/collector/context.js';
import type { Manifest, Target } from '../../src/manifest/types.js';
import type { RetryOptions } from '../../src/net/retry.js';
import { noProgress } from '../../src/progress/events.js';
import { ContentStore } from '../../src/store/content-store.js';
import { Limiter } from '../../src/util/concurrency.js';
import { testHttp } from './http.js';

/**
 * The one factory for what collectors take, typed against the real types: a field the schema renames or adds
 * breaks the test build here, not at run time in one kind's helper.
 */

/** A validated target, as manifest/targets.ts fills one in for `debian-12`. */
export function testTarget(overrides: Partial<Target> = {}): Target {
  return { os: 'debian-12', arch: 'amd64', python: '3.11', distro: 'debian', codename: 'bookworm', glibc: '2.36', baseline: 'none', ...overrides };
}

/** A validated manifest that names nothing; give the kinds a test is about. */
export function testManifest(overrides: Partial<Manifest> = {}): Manifest {
  return {
    file: '/nonexistent/manifest.yaml',
    sha256: '0'.repeat(64),
    name: 'test',
    version: '0.0.1',
    targets: [testTarget()],
    runtime: { source: 'local' },
    registries: {},
    images: [],
    files: [],
    manifests: [],
    alternates: [],
    ...overrides,
  };
}

/** A BuildContext as `assemble` makes one, with a quick retry policy and no progress unless given. */
export function testContext(
  manifest: Manifest,
  opts: Partial<Omit<BuildContext, 'manifest' | 'store' | 'requests' | 'http'>> & {
    store: ContentStore | string;
    concurrency?: number;
    retry?: RetryOptions;
  },
): BuildContext {
  const { store, concurrency, retry, ...rest } = opts;
  return {
    manifest,
    store: typeof store === 'string' ? new ContentStore(store) : store,
    workDir: '/nonexistent/work',
    onProgress: noProgress,
    requests: new Limiter(concurrency ?? 4),
    http: testHttp(retry),
    ...rest,
  };
}
