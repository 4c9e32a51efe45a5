import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { KsBundleError } from '../errors.js';
import { loadManifest } from '../manifest/load.js';
import type { Manifest } from '../manifest/types.js';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { ContentStore } from '../store/content-store.js';
import { writeFileAtomic } from '../store/atomic.js';
import { FORMAT_VERSION, LOCK, SBOM } from '../bundle/layout.js';
import { bundleSbom } from '../sbom/bundle-sbom.js';
import { resolveSince } from './since.js';
import { writeBundle, type Compression, type WrittenBundle } from '../bundle/write.js';
import type { BundleMeta, CountedKind } from '../bundle/meta.js';
import { kubesprayOfBuild } from '../kubespray/settings.js';
import { parseReference } from '../images/reference.js';
import { INIT_INSTALLER_SH, INSTALL_SH } from '../bundle/scripts.js';
import { confEntries } from '../bundle/conf.js';
import { HOSTS_INI_TEMPLATE, VARS_YML_TEMPLATE } from '../nodes/templates.js';
import { planFiles } from '../files/collect.js';
import { planPlaybooks } from '../files/playbooks.js';
import { planRuntime } from '../runtime/collect.js';
import { UnavailableError } from '../collector/run.js';
import { checkImageReferences } from '../images/manifest-check.js';
import { readBuildMachineArchives } from '../apt/host-sources.js';
import { checkBuild, enforce } from '../completeness/gate.js';
import type { BuildContext, Collector } from '../collector/context.js';
import { Limiter } from '../util/concurrency.js';
import type { BundleEntry } from '../bundle/entry.js';
import type { LockEntry } from '../lock/entry.js';
import type { HttpClient } from '../net/client.js';
import { diffLocks, readLock, renderLock, type Lock } from '../lock/lock.js';

export interface BuildOptions {
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
  /** Turn the completeness check's failure into a warning. */
  allowMissing?: boolean;
  onProgress?: OnProgress;
  signal?: AbortSignal;
  /** Build a delta: only what this bundle (or its lock) lacks; the rest comes from it at install. */
  since?: string;
}

export interface BuildResult {
  manifest: Manifest;
  bundle: WrittenBundle;
  lockFiles: string[];
  lock: Lock;
}

/** The default lock path: next to the manifest, so it can be committed with it. */
export function defaultLockPath(manifestFile: string): string {
  return join(dirname(manifestFile), basename(manifestFile).replace(/\.ya?ml$/, '') + '.lock.yaml');
}

export async function buildBundle(opts: BuildOptions): Promise<BuildResult> {
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
  try {
    const plans = await allOrFirstError(
      (await collectorsFor(manifest)).map(async ([phase, plan]) => {
        onProgress({ type: 'phase', phase, message: `resolving ${phase}` });
        return plan(ctx);
      }),
      (err) => requests.stop(err),
    );
    const unavailable = plans.flatMap((p) => p.unavailable);
    if (unavailable.length) throw new UnavailableError(unavailable);
    const outputs = await allOrFirstError(
      plans.map((p) => p.fetch()),
      (err) => requests.stop(err),
    );
    const artifacts: LockEntry[] = outputs.flatMap((o) => o.lock);
    const lock: Lock = {
      apiVersion: 'ks-bundle/v1',
      kind: 'BundleLock',
      manifest: { name: manifest.name, version: manifest.version, sha256: manifest.sha256 },
      ...(since ? { base: since.base } : {}),
      artifacts,
    };
    if (locked) {
      const diff = diffLocks(locked.artifacts, artifacts);
      if (diff.length) {
        throw new KsBundleError('INVALID_INPUT', `--locked: the build differs from ${lockFile}:\n${diff.map((d) => '  ' + d).join('\n')}`, {
          hint: 'Build without --locked to update the lock, review the change, and commit it.',
        });
      }
    }
    // Cancelled while the last download finished: stop before packing, which is not interruptible.
    opts.signal?.throwIfAborted();
    const collected = outputs.flatMap((o) => o.entries);
    onProgress({ type: 'phase', phase: 'check', message: 'checking that the bundle holds everything the install will ask for' });
    enforce(await checkBuild(manifest, collected), manifest.file, !!opts.allowMissing, onProgress);
    const lockText = renderLock(lock);
    const entries: BundleEntry[] = [
      ...collected,
      ...confEntries({ hostsIni: HOSTS_INI_TEMPLATE, varsYml: VARS_YML_TEMPLATE }),
      text('install.sh', INSTALL_SH, 0o755),
      text('scripts/InitInstaller.sh', INIT_INSTALLER_SH, 0o755),
      text(LOCK, lockText),
      text(SBOM, bundleSbom(lock, (path) => collected.find((e) => e.path === path)?.data?.toString('utf8'))),
    ];
    onProgress({ type: 'phase', phase: 'pack', message: `packing ${entries.length} files` });
    const bundle = await writeBundle({
      name: manifest.name,
      version: manifest.version,
      entries,
      meta: { ...bundleMeta(manifest, artifacts, entries.map((e) => e.path)), ...(since ? { base: since.base } : {}) },
      out,
      asDirectory,
      compress,
      onProgress,
      inBase: since?.inBase,
    });
    const lockFiles = [lockFile];
    if (!locked) await writeFileAtomic(lockFile, lockText);
    const beside = `${out.replace(/\/+$/, '')}.lock.yaml`;
    await writeFileAtomic(beside, renderLock({ ...lock, bundle: { name: manifest.name, version: manifest.version, sha256sums: bundle.sha256sums } }));
    lockFiles.push(beside);
    return { manifest, bundle, lockFiles, lock };
  } finally {
    opts.signal?.removeEventListener('abort', stopRequests);
    await rm(workDir, { recursive: true, force: true });
  }
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
async function allOrFirstError<T>(work: Array<Promise<T>>, onFailure: (err: unknown) => void): Promise<T[]> {
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

function text(path: string, content: string, mode = 0o644): BundleEntry {
  const data = Buffer.from(content);
  return { path, data, size: data.length, mode };
}

/** What InitInstaller installs on the taskbox from the mirror, when the manifest bundles it. */
const TASKBOX_PACKAGES = ['python3-venv', 'python3-pip', 'sshpass'];

/**
 * bundle.yaml: what the bundle is, and what this build decided that the install must not guess again: the apt repos
 * it serves, the registries it holds images of, and whether (and how) its playbooks are kubespray and KubeSphere.
 */
function bundleMeta(m: Manifest, artifacts: LockEntry[], paths: string[]): Omit<BundleMeta, 'sha256sums'> {
  const count = (k: LockEntry['kind']) => artifacts.filter((a) => a.kind === k).length;
  const bytes = (k: LockEntry['kind']) => artifacts.filter((a) => a.kind === k).reduce((n, a) => n + a.size, 0);
  const kinds: CountedKind[] = ['runtime', 'file', 'manifest', 'playbooks', 'image', 'blob', 'deb', 'wheel'];
  const aptRepos: Record<string, string> = {};
  for (const p of paths) {
    const hit = /^repos\/apt\/([^/]+)\/dists\/([^/]+)\/Release$/.exec(p);
    if (hit) aptRepos[hit[1]!] = hit[2]!;
  }
  const kubespray = kubesprayOfBuild(paths);
  const ksInstaller = m.images.map(parseReference).find((r) => r.registry === 'docker.io' && r.repo === 'kubesphere/ks-installer');
  return {
    apiVersion: 'ks-bundle/v1',
    kind: 'Bundle',
    formatVersion: FORMAT_VERSION,
    name: m.name,
    version: m.version,
    manifest: { file: basename(m.file), sha256: m.sha256 },
    targets: m.targets.map((t) => ({ os: t.os, arch: t.arch, python: t.python, codename: t.codename })),
    counts: Object.fromEntries(kinds.map((k) => [k, count(k)])),
    bytes: Object.fromEntries(kinds.map((k) => [k, bytes(k)])),
    installer: {
      apt: TASKBOX_PACKAGES.filter((p) => m.apt?.packages.includes(p)),
      pip: m.pip?.requirements ?? [],
      ...(m.playbooks?.entry ? { playbook: m.playbooks.entry } : {}),
    },
    aptRepos,
    registries: [...new Set(m.images.map((r) => parseReference(r).registry))].sort(),
    ...(kubespray ? { kubespray: { version: kubespray.version, settings: { ...kubespray.settings } } } : {}),
    ...(ksInstaller?.tag ? { kubesphere: { version: ksInstaller.tag } } : {}),
  };
}
