/**
 * Dependency closure for one target, over a PackageIndex. Pure. Follows Pre-Depends and Depends (and Recommends
 * when asked), picks for each unsatisfied `a | b` group the first alternative the index can satisfy (apt's
 * order), prefers the newest version, resolves virtual packages through (versioned) Provides, and skips what the
 * baseline already has. When a baseline package must be upgraded (a versioned dependency, or a Breaks), the
 * installed packages whose dependencies the upgrade would break are upgraded too, as apt would.
 * Failures name the chain from the requested package and what the index offers.
 */
import { KsBundleError } from '../errors.js';
import type { PackageIndex, PackageRecord } from './index.js';
import { formatGroup, formatRelation, parseRelation, versionMatches, type OrGroup, type Relation } from './relation.js';

/** What the target already has: name -> installed version and what it provides. */
export interface Installed {
  version: string;
  provides: Relation[];
  depends: OrGroup[];
}
export type Baseline = Map<string, Installed>;

export interface ResolveOptions {
  recommends?: boolean;
  baseline?: Baseline;
}

export interface Selected {
  pkg: PackageRecord;
  /** How it got in: `kubelet -> conntrack (>= 1.4)`. */
  chain: string[];
}

export interface ResolveResult {
  selected: Selected[];
  /** Requested packages the baseline already has at a satisfying version (still included, as asked). */
  alreadyInstalled: string[];
}

export interface Unsatisfied {
  chain: string[];
  group: string;
  offers: string;
}

export class ResolveError extends KsBundleError {
  constructor(readonly problems: Unsatisfied[], arch: string) {
    const lines = problems.slice(0, 20).map((p) => `  ${[...p.chain, p.group].join(' -> ')}: ${p.offers}`);
    if (problems.length > 20) lines.push(`  ... and ${problems.length - 20} more`);
    super('RESOLVE', `cannot satisfy ${problems.length} dependenc${problems.length === 1 ? 'y' : 'ies'} (${arch}):\n${lines.join('\n')}`, {
      hint: 'Add the source or suite that carries the package (spec.apt.sources), or correct the package name.',
    });
  }
}

const PRIORITY_RANK: Record<string, number> = { required: 0, important: 1, standard: 2, optional: 3, extra: 4 };

export function resolveClosure(index: PackageIndex, requests: string[], opts: ResolveOptions = {}): ResolveResult {
  index.finish();
  const baseline = opts.baseline ?? new Map<string, Installed>();
  const chosen = new Map<string, PackageRecord[]>(); // name -> selected versions
  const chosenProvides = new Map<string, Array<string | undefined>>(); // virtual -> provided versions
  const selected: Selected[] = [];
  const queue: Selected[] = [];
  const problems: Unsatisfied[] = [];
  const alreadyInstalled: string[] = [];
  const installedProvides = new Map<string, Array<string | undefined>>();
  for (const [, i] of baseline) {
    for (const p of i.provides) {
      const l = installedProvides.get(p.name) ?? [];
      l.push(p.op === '=' ? p.version : undefined);
      installedProvides.set(p.name, l);
    }
  }

  const select = (pkg: PackageRecord, chain: string[]): void => {
    const list = chosen.get(pkg.name) ?? [];
    if (list.includes(pkg)) return;
    list.push(pkg);
    chosen.set(pkg.name, list);
    for (const p of pkg.provides) {
      const l = chosenProvides.get(p.name) ?? [];
      l.push(p.op === '=' ? p.version : undefined);
      chosenProvides.set(p.name, l);
    }
    const s = { pkg, chain };
    selected.push(s);
    queue.push(s);
  };

  const installedSatisfies = (r: Relation): boolean => {
    const inst = baseline.get(r.name);
    if (inst && versionMatches(r, inst.version) && !upgraded(r.name)) return true;
    for (const v of installedProvides.get(r.name) ?? []) if (versionMatches(r, v)) return true;
    return false;
  };
  // A baseline package we had to select a newer version of is judged by the selected versions instead.
  const upgraded = (name: string): boolean => baseline.has(name) && chosen.has(name);

  const chosenSatisfies = (r: Relation): boolean => {
    for (const p of chosen.get(r.name) ?? []) if (versionMatches(r, p.version)) return true;
    for (const v of chosenProvides.get(r.name) ?? []) if (versionMatches(r, v)) return true;
    return false;
  };

  const candidates = (r: Relation): PackageRecord[] => {
    const real = index.versions(r.name).filter((p) => versionMatches(r, p.version) && archQualOk(r, p));
    if (real.length) return real;
    const provs = (index.providers.get(r.name) ?? []).filter((p) => versionMatches(r, p.version)).map((p) => p.pkg);
    // Newest of each provider; providers by priority then name, so the choice is stable.
    const best = new Map<string, PackageRecord>();
    for (const p of provs) {
      const newest = index.versions(p.name).find((q) => q === p || provs.includes(q));
      if (newest && !best.has(newest.name)) best.set(newest.name, newest);
    }
    return [...best.values()].sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  const satisfyGroup = (group: OrGroup, chain: string[], optional: boolean, parent?: PackageRecord): void => {
    if (group.some((r) => chosenSatisfies(r))) return;
    const installed = group.find((r) => installedSatisfies(r));
    if (installed) {
      // apt upgrades an installed dependency built from the same source as the package that needs it
      // (openssl pulls the newer libssl3 along), so the repo must carry that upgrade too.
      const inst = baseline.get(installed.name);
      const newest = index.versions(installed.name)[0];
      if (parent && inst && newest && newest.source === parent.source && newest.version !== inst.version && versionMatches(installed, newest.version)) {
        select(newest, [...chain, `${formatRelation(installed)} (same source, upgraded)`]);
      }
      return;
    }
    for (const r of group) {
      const c = candidates(r);
      if (c.length) {
        select(c[0]!, [...chain, formatRelation(r)]);
        return;
      }
    }
    if (!optional) problems.push({ chain, group: formatGroup(group), offers: describeOffers(index, group) });
  };

  for (const req of requests) {
    const r = parseRequest(req);
    const c = candidates(r);
    if (!c.length) {
      problems.push({ chain: [], group: formatRelation(r), offers: describeOffers(index, [r]) });
      continue;
    }
    const inst = baseline.get(r.name);
    if (inst && versionMatches(r, inst.version)) alreadyInstalled.push(r.name);
    select(c[0]!, [formatRelation(r)]);
  }

  while (queue.length) {
    const { pkg, chain } = queue.shift()!;
    for (const g of pkg.preDepends) satisfyGroup(g, chain, false, pkg);
    for (const g of pkg.depends) satisfyGroup(g, chain, false, pkg);
    if (opts.recommends) for (const g of pkg.recommends) satisfyGroup(g, chain, true, pkg);
    // Breaks against what the target has: apt upgrades the broken package, so the repo must carry the upgrade.
    for (const g of pkg.breaks) {
      for (const r of g) {
        const inst = baseline.get(r.name);
        if (inst && r.op && versionMatches(r, inst.version) && !chosen.has(r.name)) {
          const c = index.versions(r.name).filter((p) => !versionMatches(r, p.version));
          if (c.length) select(c[0]!, [...chain, `breaks ${formatRelation(r)}`]);
        }
      }
    }
    // An upgraded baseline package: installed packages that depend on the old version must follow it.
    if (baseline.has(pkg.name)) {
      for (const [name, inst] of baseline) {
        if (chosen.has(name)) continue;
        for (const g of inst.depends) {
          if (!g.some((r) => r.name === pkg.name)) continue;
          if (g.some((r) => chosenSatisfies(r) || installedSatisfies(r))) continue;
          const c = index.versions(name)[0];
          if (c) select(c, [...chain, `${name} (installed) needs ${formatGroup(g)}`]);
        }
      }
    }
  }
  if (problems.length) throw new ResolveError(problems, index.arch);
  selected.sort((a, b) => (a.pkg.name < b.pkg.name ? -1 : a.pkg.name > b.pkg.name ? 1 : 0));
  return { selected, alreadyInstalled };
}

function rank(p: PackageRecord): number {
  return PRIORITY_RANK[p.priority ?? 'optional'] ?? 3;
}

/** `:any` needs Multi-Arch: allowed on the real package; a single-arch universe makes every other qualifier moot. */
function archQualOk(r: Relation, p: PackageRecord): boolean {
  if (r.archQual !== 'any') return true;
  return p.multiArch === 'allowed' || p.multiArch === 'foreign' || p.arch === 'all';
}

/** `pkg`, `pkg=1.2-3` or `pkg (>= 1.2)`. */
export function parseRequest(req: string): Relation {
  const eq = /^([a-z0-9][a-z0-9+.\-]*)=(\S+)$/i.exec(req.trim());
  if (eq) return { name: eq[1]!.toLowerCase(), op: '=', version: eq[2]! };
  const r = parseRelation(req);
  if (!r) throw new KsBundleError('INVALID_INPUT', `bad apt package request ${JSON.stringify(req)}`);
  return r;
}

function describeOffers(index: PackageIndex, group: OrGroup): string {
  const parts: string[] = [];
  for (const r of group) {
    const versions = index.versions(r.name).map((p) => p.version);
    const provs = (index.providers.get(r.name) ?? []).map((p) => `${p.pkg.name} ${p.pkg.version}${p.version ? ` provides ${r.name} (= ${p.version})` : ''}`);
    if (versions.length) parts.push(`${r.name} has ${versions.join(', ')}`);
    if (provs.length) parts.push(`${r.name} is provided by ${provs.slice(0, 5).join(', ')}${provs.length > 5 ? ', ...' : ''}`);
    if (!versions.length && !provs.length) parts.push(`the index has no ${r.name} for ${index.arch}`);
  }
  return parts.join('; ');
}
