/**
 * The apt kind of `ks-bundle build`: for every target, the verified dependency closure of `spec.apt.packages`,
 * downloaded into the store against the upstream `Packages` SHA256, written as one signed repo per OS under
 * `repos/apt/<os>/`, plus the public key `repos/apt/ks-bundle.gpg`.
 *
 * Plan: the Releases and Packages indexes (metadata) are fetched and the closures resolved; figures come from the
 * indexes' `Size` and the store; no deb is downloaded. With `--locked` the plan is the lock's (no index is
 * consulted). Fetch: the debs, each from the archive its suite was planned on, then its source's alternates.
 */
import type { BundleEntry } from '../bundle/entry.js';
import type { BuildContext, Collector, KindOutput, KindPlan, Unavailable } from '../collector/context.js';
import { collectWith, firstAvailable, UnavailableError } from '../collector/run.js';
import { blobFigures } from '../collector/figures.js';
import type { LockEntry } from '../lock/entry.js';
import { redactUrl } from '../errors.js';
import type { Alternate, AptSpec, Target } from '../manifest/types.js';
import { mapLimit } from '../util/concurrency.js';
import { archivesOf, chooseArchive, suiteUnavailable, type ArchiveChoices } from './archives.js';
import { bundleSigningKey } from './keys.js';
import { debLock, reposFromLock, type OsRepo } from './lock.js';
import { planTarget, sourcesFor, type PlannedDeb } from './plan.js';
import { buildRepo, keyEntry, type RepoPackage } from './repo.js';
import { ResolveError } from './resolve.js';
import { archiveRoot } from './upstream.js';
import type { SigningKey } from './pgp.js';

interface Resolved {
  repos: Map<string, OsRepo>;
  indexLock: LockEntry[];
  unavailable: Unavailable[];
}

export const planApt: Collector = async (ctx): Promise<KindPlan> => {
  const spec = ctx.manifest.apt;
  if (!spec || spec.packages.length === 0) return { kinds: {}, unavailable: [], fetch: async () => ({ entries: [], lock: [] }) };
  const targets = uniqueTargets(ctx.manifest.targets);
  const resolved: Resolved = ctx.locked
    ? { repos: reposFromLock(ctx.locked, spec, targets, archiveUrls(spec, ctx)), indexLock: ctx.locked.filter((l) => l.kind === 'index'), unavailable: [] }
    : await resolveTargets(ctx, spec, targets);
  const key = await bundleSigningKey({ storeRoot: ctx.store.root, signingKey: spec.signingKey });
  return {
    kinds: { debs: await blobFigures(uniqueDebs(resolved.repos), ctx.store) },
    generatedBytes: await indexBytes(resolved.repos, key),
    unavailable: resolved.unavailable,
    fetch: () => fetchApt(ctx, spec, resolved, key),
  };
};

/** Plan, then fetch. */
export const collectApt = (ctx: BuildContext): Promise<KindOutput> => collectWith(planApt, ctx);

async function resolveTargets(ctx: BuildContext, spec: AptSpec, targets: Target[]): Promise<Resolved> {
  const choices: ArchiveChoices = new Map();
  const opts = { store: ctx.store, onProgress: ctx.onProgress, http: ctx.http, requests: ctx.requests };
  const repos = new Map<string, OsRepo>();
  const indexLock: LockEntry[] = [];
  const unavailable = new Map<string, Unavailable>();
  // One target at a time: each index is dropped before the next is built (peak memory = one target).
  for (const t of targets) {
    const suites = await Promise.all(sourcesFor(spec, t.os).flatMap((s) => s.suites.map((suite) => chooseArchive(choices, s, suite, ctx.manifest.alternates, opts))));
    const gone = suites.filter((c) => !c.rel);
    // Without one of its suites a target's closure would silently differ: it is not resolved at all.
    if (gone.length) {
      for (const c of gone) unavailable.set(`${c.source.name}|${c.suite}`, suiteUnavailable(c));
      continue;
    }
    ctx.onProgress({ type: 'phase', phase: 'apt', message: `resolving ${spec.packages.length} packages for ${t.os}/${t.arch}` });
    let plan;
    try {
      plan = await planTarget(t, spec, ctx.manifest.file, choices, opts, ctx.manifest.alternates);
    } catch (err) {
      if (!(err instanceof ResolveError)) throw err;
      // A package (or a pinned version) no archive has: reported with every archive its indexes came from.
      const archives = suites.map((c) => redactUrl(c.rel!.distsUrl));
      for (const p of err.problems) {
        const message = `${[...p.chain, p.group].join(' -> ')}: ${p.offers} (${t.os}/${t.arch})`;
        if (!unavailable.has(p.group)) unavailable.set(p.group, { kind: 'debs', name: p.group, tried: archives.map((source) => ({ source, error: 'not-found', message })) });
      }
      continue;
    }
    for (const e of plan.indexLock) if (!indexLock.some((x) => x.name === e.name)) indexLock.push(e);
    let r = repos.get(t.os);
    if (!r) repos.set(t.os, (r = { os: t.os, codename: t.codename, date: new Date(0), byArch: new Map() }));
    r.byArch.set(t.arch, plan.debs);
    if (plan.date > r.date) r.date = plan.date;
  }
  return { repos, indexLock, unavailable: [...unavailable.values()] };
}

async function fetchApt(ctx: BuildContext, spec: AptSpec, resolved: Resolved, key: SigningKey): Promise<KindOutput> {
  const stored = await downloadAll(uniqueDebs(resolved.repos), spec, ctx);
  const entries: BundleEntry[] = [keyEntry(key)];
  const lock: LockEntry[] = [...resolved.indexLock];
  for (const r of sortedRepos(resolved.repos)) {
    const byArch = new Map<string, RepoPackage[]>();
    for (const [arch, debs] of r.byArch) {
      byArch.set(arch, debs.map((d) => ({ ...d, file: stored.get(d.sha256)!.path })));
      if (!ctx.locked) for (const d of debs) lock.push(debLock(r, arch, d, stored.get(d.sha256)!.url));
    }
    entries.push(...(await buildRepo({ os: r.os, codename: r.codename, date: r.date, byArch, key })));
  }
  if (ctx.locked) {
    // The lock says where each deb was fetched this time: an alternate when the locked archive no longer had it.
    const urlOf = new Map([...stored.values()].map((s) => [s.sha256, redactUrl(s.url)]));
    for (const l of ctx.locked) if (l.kind === 'deb') lock.push({ ...l, source: urlOf.get(l.sha256) ?? l.source });
  }
  return { entries, lock };
}

/** What the repos' generated files (indexes, Release, signatures, key) will weigh: rendered now, as fetch will. */
async function indexBytes(repos: Map<string, OsRepo>, key: SigningKey): Promise<number> {
  let n = keyEntry(key).size;
  for (const r of sortedRepos(repos)) {
    const byArch = new Map([...r.byArch].map(([arch, debs]) => [arch, debs.map((d) => ({ ...d, file: '' }))]));
    for (const e of await buildRepo({ os: r.os, codename: r.codename, date: r.date, byArch, key })) if (e.data) n += e.size;
  }
  return n;
}

function sortedRepos(repos: Map<string, OsRepo>): OsRepo[] {
  return [...repos.values()].sort((a, b) => (a.os < b.os ? -1 : 1));
}

function uniqueTargets(targets: Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const k = `${t.os}/${t.arch}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

function uniqueDebs(repos: Map<string, OsRepo>): PlannedDeb[] {
  const unique = new Map<string, PlannedDeb>();
  for (const r of repos.values()) for (const debs of r.byArch.values()) for (const d of debs) unique.set(d.sha256, d);
  return [...unique.values()];
}

/** Every archive URL of the manifest (sources and their alternates): the ones that hold credentials for the lock's URLs. */
function archiveUrls(spec: AptSpec, ctx: BuildContext): string[] {
  return spec.sources.flatMap((s) => archivesOf(s, ctx.manifest.alternates).map((a) => a.url));
}

/** Where a deb can be fetched, in order: where it was planned (or locked), then every archive of its source. */
export function debUrls(d: PlannedDeb, spec: AptSpec, alternates: readonly Alternate[]): string[] {
  const urls = [d.url];
  const source = spec.sources.find((s) => d.index.startsWith(`${s.name}/`));
  if (source && d.upstream) for (const a of archivesOf(source, alternates)) if (!urls.includes(archiveRoot(a) + d.upstream)) urls.push(archiveRoot(a) + d.upstream);
  return urls;
}


/** Every distinct deb once, through the build's request limiter; sha256 -> store path and the URL it came from. */
async function downloadAll(debs: PlannedDeb[], spec: AptSpec, ctx: BuildContext): Promise<Map<string, { sha256: string; path: string; url: string }>> {
  const missing: Unavailable[] = [];
  const got = await mapLimit(debs, ctx.requests.limit, async (d) => {
    const what = `${d.name}_${d.version}_${d.arch}.deb`;
    const r = await firstAvailable(
      debUrls(d, spec, ctx.manifest.alternates),
      (url) => ctx.requests.run(() => ctx.http.download({ url, sha256: d.sha256, size: d.size, what }, { store: ctx.store, onProgress: ctx.onProgress })),
      redactUrl,
    );
    if (!r.value) missing.push({ kind: 'debs', name: `${d.name}=${d.version}:${d.arch}`, tried: r.tried });
    return r.value ? { sha256: d.sha256, path: r.value.path, url: r.source } : undefined;
  });
  if (missing.length) throw new UnavailableError(missing);
  return new Map(got.map((g) => [g!.sha256, g!]));
}
