import { basename } from 'node:path';
import { KsBundleError } from '../errors.js';
import type { Manifest } from '../manifest/types.js';
import { noProgress } from '../progress/events.js';
import { writeFileAtomic } from '../store/atomic.js';
import { FORMAT_VERSION, LOCK, SBOM } from '../bundle/layout.js';
import { writeBundle, type WrittenBundle } from '../bundle/write.js';
import { packAhead, type PackAhead } from '../bundle/tar-pack-ahead.js';
import { sha256OfString } from '../store/hashing.js';
import type { BundleMeta, CountedKind } from '../bundle/meta.js';
import { kubesprayOfBuild } from '../kubespray/settings.js';
import { parseReference } from '../images/reference.js';
import { INIT_INSTALLER_SH, INSTALL_SH } from '../bundle/scripts.js';
import { confEntries } from '../bundle/conf.js';
import { HOSTS_INI_TEMPLATE, VARS_YML_TEMPLATE } from '../nodes/templates.js';
import { UnavailableError } from '../collector/run.js';
import { checkBuild, enforce } from '../completeness/gate.js';
import { checkDiskSpace, diskShortfalls } from '../util/disk-space.js';
import type { BundleEntry } from '../bundle/entry.js';
import type { LockEntry } from '../lock/entry.js';
import { diffLocks, renderLock, renderLockBeside, type Lock } from '../lock/lock.js';
import { bundleSbomOnce } from './sbom-once.js';
import { allOrFirstError, diskPlan, openSession, planSession, type PlanOptions } from './plan.js';

export interface BuildOptions extends PlanOptions {
  /** Turn the completeness check's failure into a warning. */
  allowMissing?: boolean;
}

export interface BuildResult {
  manifest: Manifest;
  bundle: WrittenBundle;
  lockFiles: string[];
  lock: Lock;
}

export { collectorsFor, defaultLockPath } from './plan.js';

export async function buildBundle(opts: BuildOptions): Promise<BuildResult> {
  const onProgress = opts.onProgress ?? noProgress;
  const session = await openSession(opts);
  const { manifest, lockFile, locked, compress, out, asDirectory, since, requests } = session;
  // A plain tarball of a whole bundle starts packing what the last build of this manifest packed, while this one
  // finds out what the manifest names now; the pack below keeps it only when it is the same (tar-pack-ahead.ts).
  const planKey = compress === 'none' && !asDirectory && !since ? packPlanKey(manifest) : undefined;
  let ahead: PackAhead | undefined;
  try {
    ahead = planKey ? await packAhead(session.ctx.store, planKey, out) : undefined;
    const { plans, unavailable, bundleBytes, toDownload, disk: planned } = await planSession(session);
    if (unavailable.length) throw new UnavailableError(unavailable);
    let disk = planned;
    if (ahead && diskShortfalls([disk.output, disk.cache]).length) {
      // What was packed ahead takes room the check counts: without it, the build may still fit.
      await ahead.abandon();
      disk = await diskPlan(session, bundleBytes, toDownload);
    }
    // Before the first download: a disk that cannot hold the downloads and the bundle fails now, not half way.
    checkDiskSpace([disk.output, disk.cache], `building ${manifest.name} ${manifest.version}`, 'downloading');
    // The SBOM library takes 0.07–0.1 s to load. Unless the build is likely the last one again (it packs ahead),
    // and its SBOM then in the cache, it loads while the downloads go on, after the requests of the plan went out.
    let sbomLibrary = ahead ? undefined : import('../sbom/bundle-sbom.js');
    sbomLibrary?.catch(() => {});
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
      text(SBOM, await bundleSbomOnce(lock, lockText, collected, session.ctx.store, () => (sbomLibrary ??= import('../sbom/bundle-sbom.js')))),
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
      memo: session.ctx.store,
      planKey,
      ahead,
      signal: opts.signal,
    });
    const beside = `${out.replace(/\/+$/, '')}.lock.yaml`;
    await Promise.all([
      locked ? undefined : writeFileAtomic(lockFile, lockText),
      writeFileAtomic(beside, renderLockBeside(lockText, { name: manifest.name, version: manifest.version, sha256sums: bundle.sha256sums })),
    ]);
    return { manifest, bundle, lockFiles: [lockFile, beside], lock };
  } finally {
    await ahead?.abandon();
    await session.dispose();
  }
}

/** What picks the plan a build packs ahead: the manifest's bytes and the runtime it was told to take. */
function packPlanKey(m: Manifest): string {
  return sha256OfString(JSON.stringify([m.sha256, m.runtime ?? null]));
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
