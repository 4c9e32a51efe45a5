/**
 * The apt kind of `ks-bundle build`: for every target, the verified dependency closure of `spec.apt.packages`,
 * downloaded into the store against the upstream `Packages` SHA256, written as one signed repo per OS under
 * `repos/apt/<os>/`, plus the public key `repos/apt/ks-bundle.gpg`. With `--locked`, exactly the locked debs
 * (and the stanzas the lock recorded for them) are used: no index is consulted.
 */
import type { BundleEntry } from '../bundle/entry.js';
import type { BuildContext, Collector, KindOutput } from '../collector/context.js';
import { collectWith, resolvedInFetch } from '../collector/run.js';
import type { LockEntry } from '../lock/entry.js';
import { KsBundleError, redactUrl, withCredentialsOf } from '../errors.js';
import type { Target } from '../manifest/types.js';
import { planTarget, type PlannedDeb } from './plan.js';
import { bundleSigningKey } from './keys.js';
import { parseRequest } from './resolve.js';
import { buildRepo, keyEntry, type RepoPackage } from './repo.js';
import type { SuiteRelease } from './upstream.js';
import { mapLimit } from '../util/concurrency.js';


interface OsRepo {
  os: string;
  codename: string;
  date: Date;
  byArch: Map<string, PlannedDeb[]>;
}

async function fetchApt(ctx: BuildContext): Promise<KindOutput> {
  const spec = ctx.manifest.apt;
  if (!spec || spec.packages.length === 0) return { entries: [], lock: [] };
  const targets = uniqueTargets(ctx.manifest.targets);
  const lock: LockEntry[] = [];
  const repos = new Map<string, OsRepo>();
  const repoOf = (t: Target): OsRepo => {
    let r = repos.get(t.os);
    if (!r) repos.set(t.os, (r = { os: t.os, codename: t.codename, date: new Date(0), byArch: new Map() }));
    return r;
  };

  if (ctx.locked) {
    for (const e of ctx.locked.filter((l) => l.kind === 'index')) lock.push(e);
    for (const t of targets) {
      const debs = ctx.locked.filter((l) => l.kind === 'deb' && l.extra?.['os'] === t.os && l.extra?.['targetArch'] === t.arch).map((l) => debFromLock(l, spec.sources.map((src) => src.url)));
      if (!debs.length) throw new KsBundleError('RESOLVE', `--locked: the lock has no debs for target ${t.os}/${t.arch}`, { hint: 'Build without --locked to resolve this target, then commit the new lock.' });
      // The manifest may have gained packages since the lock was written (a status baseline may legitimately
      // leave a requested package out: the target already has it).
      if (typeof t.baseline !== 'object') {
        const have = new Set(debs.map((d) => d.name));
        const missing = spec.packages.map((p) => parseRequest(p).name).filter((n) => !have.has(n));
        if (missing.length) {
          throw new KsBundleError('RESOLVE', `--locked: the lock has no ${missing.join(', ')} for target ${t.os}/${t.arch}, which the manifest asks for`, {
            hint: 'The manifest changed since the lock was written: build without --locked, then commit the new lock.',
          });
        }
      }
      const r = repoOf(t);
      r.byArch.set(t.arch, debs);
      const d = ctx.locked.find((l) => l.kind === 'deb' && l.extra?.['os'] === t.os)?.extra?.['repoDate'];
      if (typeof d === 'string') r.date = new Date(d);
    }
  } else {
    const releases = new Map<string, Promise<SuiteRelease>>();
    const opts = { store: ctx.store, onProgress: ctx.onProgress, http: ctx.http, requests: ctx.requests };
    const seenIndex = new Set<string>();
    // One target at a time: each index is dropped before the next is built (peak memory = one target).
    for (const t of targets) {
      ctx.onProgress({ type: 'phase', phase: 'apt', message: `resolving ${spec.packages.length} packages for ${t.os}/${t.arch}` });
      const plan = await planTarget(t, spec, ctx.manifest.file, releases, opts);
      for (const e of plan.indexLock) if (!seenIndex.has(e.name)) (seenIndex.add(e.name), lock.push(e));
      const r = repoOf(t);
      r.byArch.set(t.arch, plan.debs);
      if (plan.date > r.date) r.date = plan.date;
    }
  }

  const stored = await downloadAll([...repos.values()].flatMap((r) => [...r.byArch.values()].flat()), ctx);
  const key = await bundleSigningKey({ storeRoot: ctx.store.root, signingKey: spec.signingKey });
  const entries: BundleEntry[] = [keyEntry(key)];
  for (const r of [...repos.values()].sort((a, b) => (a.os < b.os ? -1 : 1))) {
    const byArch = new Map<string, RepoPackage[]>();
    for (const [arch, debs] of r.byArch) {
      byArch.set(arch, debs.map((d) => ({ ...d, file: stored.get(d.sha256)! })));
      if (!ctx.locked) for (const d of debs) lock.push(debLock(r, arch, d));
    }
    entries.push(...(await buildRepo({ os: r.os, codename: r.codename, date: r.date, byArch, key })));
  }
  if (ctx.locked) lock.push(...ctx.locked.filter((l) => l.kind === 'deb'));
  return { entries, lock };
};

function uniqueTargets(targets: Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const k = `${t.os}/${t.arch}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

function debLock(r: OsRepo, arch: string, d: PlannedDeb): LockEntry {
  return {
    kind: 'deb',
    name: `${r.os}/${arch}/${d.name}=${d.version}:${d.arch}`,
    version: d.version,
    source: redactUrl(d.url),
    size: d.size,
    sha256: d.sha256,
    extra: { pkg: d.name, arch: d.arch, os: r.os, targetArch: arch, filename: d.pool, index: d.index, repoDate: r.date.toISOString(), stanza: d.stanza },
  };
}

/** A locked deb as a download; its URL gets the credentials of the manifest's source back (the lock holds none). */
function debFromLock(l: LockEntry, sourceUrls: string[]): PlannedDeb {
  const x = l.extra ?? {};
  if (typeof x['stanza'] !== 'string' || typeof x['filename'] !== 'string') {
    throw new KsBundleError('INVALID_INPUT', `lock entry deb ${l.name} lacks its stanza or filename`, { hint: 'Rebuild without --locked to regenerate the lock.' });
  }
  return {
    name: String(x['pkg']),
    version: l.version ?? '',
    arch: String(x['arch']),
    stanza: x['stanza'],
    pool: x['filename'],
    sha256: l.sha256,
    size: l.size,
    url: withCredentialsOf(l.source, sourceUrls),
    index: String(x['index'] ?? ''),
    chain: [],
  };
}

/** Every distinct deb once, through the build's request limiter; returns sha256 -> store path. */
async function downloadAll(debs: PlannedDeb[], ctx: Parameters<Collector>[0]): Promise<Map<string, string>> {
  const unique = new Map<string, PlannedDeb>();
  for (const d of debs) unique.set(d.sha256, d);
  const todo = [...unique.values()];
  const paths = await mapLimit(todo, ctx.requests.limit, (d) =>
    ctx.requests.run(() =>
      ctx.http.download({ url: d.url, sha256: d.sha256, size: d.size, what: `${d.name}_${d.version}_${d.arch}.deb` }, { store: ctx.store, onProgress: ctx.onProgress }),
    ),
  );
  return new Map(todo.map((d, i) => [d.sha256, paths[i]!.path]));
}

export const planApt: Collector = async (ctx) => resolvedInFetch(() => fetchApt(ctx));

/** Plan, then fetch. */
export const collectApt = (ctx: BuildContext): Promise<KindOutput> => collectWith(planApt, ctx);
