import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { loadManifest } from '../manifest/load.js';
import type { Manifest } from '../manifest/types.js';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { ContentStore } from '../store/content-store.js';
import { topDirName } from '../bundle/layout.js';
import { INIT_INSTALLER_SH, INSTALL_SH } from '../bundle/scripts.js';
import { confEntries } from '../bundle/conf.js';
import type { BundleEntry } from '../bundle/entry.js';
import type { BundleBase } from '../bundle/meta.js';
import type { Compression } from '../bundle/write.js';
import { HOSTS_INI_TEMPLATE, VARS_YML_TEMPLATE } from '../nodes/templates.js';
import { planRuntime } from '../runtime/collect.js';
import { planFiles } from '../files/collect.js';
import { planPlaybooks } from '../files/playbooks.js';
import { checkImageReferences } from '../images/manifest-check.js';
import { readBuildMachineArchives } from '../apt/host-sources.js';
import { PLAN_KINDS, type BuildContext, type Collector, type KindFigures, type KindPlan, type PlanKind, type Unavailable } from '../collector/context.js';
import { Limiter } from '../util/concurrency.js';
import { diskAt, type DiskNeed } from '../util/disk-space.js';
import type { HttpClient } from '../net/client.js';
import { readLock, type Lock } from '../lock/lock.js';
import { resolveSince } from './since.js';
import { estimateBundleBytes } from './estimate.js';

/** What `plan` and `build` both take: everything that decides what the bundle holds and where it goes. */
export interface PlanOptions {
  manifestPath: string;
  /** A .tar / .tar.gz file, or a folder for an unpacked bundle; `bundles/<name>-<version>.tar` by default. */
  out?: string;
  compress?: Compression;
  cacheDir: string;
  /** Build exactly this lock (default: the lock next to the manifest). */
  locked?: boolean;
  lockFile?: string;
  runtime?: 'npm' | 'local';
  concurrency?: number;
  registryAuthFile?: string;
  /** The npm registry for the runtime, as the environment gave it (npm_config_registry). */
  npmRegistry?: string;
  /** The command's HTTP client; the caller closes it. */
  http: HttpClient;
  onProgress?: OnProgress;
  signal?: AbortSignal;
  /** Build a delta: only what this bundle (or its lock) lacks; the rest comes from it at install. */
  since?: string;
}

/** One build's inputs, read and checked, and its work folder in the cache; `dispose` removes the folder. */
export interface BuildSession {
  manifest: Manifest;
  lockFile: string;
  locked?: Lock;
  compress: Compression;
  out: string;
  asDirectory: boolean;
  since?: { base: BundleBase; inBase: Set<string> };
  ctx: BuildContext;
  requests: Limiter;
  dispose(): Promise<void>;
}

/** The default lock path: next to the manifest, so it can be committed with it. */
export function defaultLockPath(manifestFile: string): string {
  return join(dirname(manifestFile), basename(manifestFile).replace(/\.ya?ml$/, '') + '.lock.yaml');
}

export async function openSession(opts: PlanOptions): Promise<BuildSession> {
  const onProgress = opts.onProgress ?? noProgress;
  const manifest = await loadManifest(opts.manifestPath, {
    checks: [checkImageReferences],
    buildMachine: await readBuildMachineArchives(),
    onWarning: (message) => onProgress({ type: 'log', level: 'warn', message }),
  });
  if (opts.runtime) manifest.runtime = { ...manifest.runtime, source: opts.runtime };
  const lockFile = resolve(opts.lockFile ?? defaultLockPath(manifest.file));
  const locked = opts.locked ? await readLock(lockFile) : undefined;
  const compress = opts.compress ?? 'none';
  const out = resolve(opts.out ?? join('bundles', `${manifest.name}-${manifest.version}.tar${compress === 'gzip' ? '.gz' : ''}`));
  const since = opts.since ? await resolveSince(opts.since, onProgress) : undefined;
  const asDirectory = out.endsWith('/') || !/\.tar(\.gz)?$/.test(out);

  await mkdir(opts.cacheDir, { recursive: true });
  const workDir = await mkdtemp(join(opts.cacheDir, 'work-'));
  const requests = new Limiter(opts.concurrency ?? 4);
  // Ctrl-C (the HTTP client aborts what is in flight) or one collector failing: no request starts after that.
  const stopRequests = () => requests.stop(opts.signal?.reason ?? new Error('stopped'));
  opts.signal?.addEventListener('abort', stopRequests, { once: true });
  const ctx: BuildContext = {
    manifest,
    store: new ContentStore(opts.cacheDir),
    workDir,
    onProgress,
    signal: opts.signal,
    requests,
    http: opts.http,
    npmRegistry: opts.npmRegistry,
    locked: locked?.artifacts,
    registryAuthFile: opts.registryAuthFile,
  };
  return {
    manifest,
    lockFile,
    locked,
    compress,
    out,
    asDirectory,
    since,
    ctx,
    requests,
    dispose: async () => {
      opts.signal?.removeEventListener('abort', stopRequests);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** Where the bundle goes and where downloads go, what each needs, and what is free there. */
export interface DiskPlan {
  /** The bundle, in the output's folder. */
  output: DiskNeed;
  /** What is still to come into the cache. */
  cache: DiskNeed;
  /** The cache and the output share one file system (same st_dev), so their needs add up. */
  shared: boolean;
  /** At the output's folder: the bundle, plus the downloads when the cache shares its file system. */
  neededAtOutput: number;
  freeAtOutput: number;
}

/** The first phase of a build, whole: every kind resolved, with its figures, and what that takes on disk. */
export interface BundlePlan {
  plans: KindPlan[];
  kinds: Record<PlanKind, KindFigures>;
  unavailable: Unavailable[];
  /** The bundle's size as `build` writes it (uncompressed; a delta's is at most this). */
  bundleBytes: number;
  /** Bytes not in the cache yet. */
  toDownload: number;
  disk: DiskPlan;
}

/** Run the plan phase of every collector the manifest needs; nothing is fetched. */
export async function planSession(s: BuildSession): Promise<BundlePlan> {
  const { manifest, ctx } = s;
  const plans = await allOrFirstError(
    (await collectorsFor(manifest)).map(async ([phase, plan]) => {
      ctx.onProgress({ type: 'phase', phase, message: `resolving ${phase}` });
      return plan(ctx);
    }),
    (err) => s.requests.stop(err),
  );
  const kinds = sumFigures(plans);
  const bundleBytes = estimateBundleBytes({
    kinds,
    generatedBytes: plans.reduce((n, p) => n + (p.generatedBytes ?? 0), 0),
    fixed: fixedMembers(),
    top: topDirName(manifest.name, manifest.version),
  });
  const toDownload = PLAN_KINDS.reduce((n, k) => n + Math.max(0, kinds[k].bytes - kinds[k].cachedBytes), 0);
  return { plans, kinds, unavailable: plans.flatMap((p) => p.unavailable), bundleBytes, toDownload, disk: await diskPlan(s, bundleBytes, toDownload) };
}

/** Every kind's figures, summed over the collectors that report it (files and manifests come from one). Pure. */
export function sumFigures(plans: ReadonlyArray<Pick<KindPlan, 'kinds'>>): Record<PlanKind, KindFigures> {
  const out = Object.fromEntries(PLAN_KINDS.map((k) => [k, { count: 0, bytes: 0, cachedBytes: 0 }])) as Record<PlanKind, KindFigures>;
  for (const p of plans) {
    for (const k of PLAN_KINDS) {
      const f = p.kinds[k];
      if (!f) continue;
      out[k].count += f.count;
      out[k].bytes += f.bytes;
      out[k].cachedBytes += f.cachedBytes;
    }
  }
  return out;
}

/** The files every bundle has that no collector reports: the scripts and conf/ (bin/ks-bundle.mjs is the runtime's). */
function fixedMembers(): Array<{ path: string; size: number }> {
  const text = (path: string, content: string) => ({ path, size: Buffer.byteLength(content) });
  const conf = confEntries({ hostsIni: HOSTS_INI_TEMPLATE, varsYml: VARS_YML_TEMPLATE }).map((e: BundleEntry) => ({ path: e.path, size: e.size }));
  return [
    text('install.sh', INSTALL_SH),
    text('scripts/InitInstaller.sh', INIT_INSTALLER_SH),
    ...conf,
  ];
}

export async function diskPlan(s: BuildSession, bundleBytes: number, toDownload: number): Promise<DiskPlan> {
  // The bundle is written beside its final name and renamed: a folder bundle too (counted whole, as if nothing
  // could be hard-linked from the cache).
  const outDir = dirname(s.out.replace(/\/+$/, ''));
  const [output, cache] = await Promise.all([diskAt(outDir), diskAt(s.ctx.store.root)]);
  const shared = output.device === cache.device;
  return {
    output: { ...output, bytes: bundleBytes, what: 'the bundle' },
    cache: { ...cache, bytes: toDownload, what: 'downloads into the cache' },
    shared,
    neededAtOutput: bundleBytes + (shared ? toDownload : 0),
    freeAtOutput: output.free,
  };
}

/** Every collector the manifest needs, by phase name, in the order their work starts. */
export async function collectorsFor(manifest: Manifest): Promise<Array<[string, Collector]>> {
  const collectors: Array<[string, Collector]> = [
    ['runtime', planRuntime],
    ['files', planFiles],
    ['playbooks', planPlaybooks],
  ];
  // Loaded only when the manifest names them (openpgp alone takes a fifth of a second to load).
  if (manifest.images.length) collectors.push(['images', (await import('../images/collect.js')).planImages]);
  if (manifest.apt?.packages.length) collectors.push(['apt', (await import('../apt/collect.js')).planApt]);
  if (manifest.pip?.requirements.length) collectors.push(['pip', (await import('../pip/collect.js')).planPip]);
  return collectors;
}

/**
 * Like Promise.all, but on the first failure calls `onFailure` (which stops new requests) and still waits for every
 * promise to settle, so no collector is left writing into the cache or the work folder; then throws that failure.
 */
export async function allOrFirstError<T>(work: Array<Promise<T>>, onFailure: (err: unknown) => void): Promise<T[]> {
  let first: { err: unknown } | undefined;
  const settled = await Promise.allSettled(
    work.map((p) =>
      p.catch((err: unknown) => {
        if (!first) {
          first = { err };
          onFailure(err);
        }
        throw err;
      }),
    ),
  );
  if (first) throw first.err;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}
