/**
 * A backtracking resolver over an abstract provider (the index client supplies candidates and dependencies).
 * Newest compatible version first; a conflict undoes the latest choice that could change it. When nothing fits it
 * fails with the requirement chains that conflict, and names a project that has only source distributions.
 */
import { satisfies } from '@renovatebot/pep440';
import { KsBundleError } from '../errors.js';
import type { Requirement } from './markers.js';

export interface Candidate<F = unknown> {
  name: string;
  version: string;
  /** What the provider wants back when the solution is used (the chosen wheel). */
  file: F;
}

export interface CandidateList<F> {
  /** Newest first, each compatible with the target. */
  candidates: Candidate<F>[];
  /** Versions that exist only as sdists for this target, for the error message. */
  sdistOnly: string[];
}

export interface Provider<F> {
  candidates(name: string): Promise<CandidateList<F>>;
  /**
   * Requirements of a candidate with these extras, markers already evaluated for the target; undefined when its
   * metadata shows it cannot be used after all (e.g. Requires-Python the index did not state).
   */
  dependencies(candidate: Candidate<F>, extras: string[]): Promise<Requirement[] | undefined>;
  /** A hint that these projects will be asked for soon (lets the client fetch pages in parallel). */
  prefetch?(names: string[]): void;
}

interface Pending {
  req: Requirement;
  /** Who asked: ["alpha 2.0", "requested"], nearest first. */
  chain: string[];
}

interface State<F> {
  pins: Map<string, Candidate<F>>;
  extras: Map<string, Set<string>>;
  /** Every requirement seen per project, to check new candidates and to explain conflicts. */
  constraints: Map<string, Pending[]>;
}

export class ResolutionError extends KsBundleError {
  constructor(message: string, hint?: string) {
    super('RESOLVE', message, { hint });
  }
}

/** Versions that satisfy the specifier; pre-releases only when nothing final does (as pip). */
export function matching(versions: string[], specifier: string): Set<string> {
  const finals = versions.filter((v) => satisfies(v, specifier));
  return new Set(finals.length ? finals : versions.filter((v) => satisfies(v, specifier, { prereleases: true })));
}

function describe(p: Pending): string {
  return `${p.req.raw} (${[...p.chain].join(' ← ')})`;
}

export interface ResolveOptions {
  /** Give up after this many candidate attempts; a pathological graph must not run forever. */
  maxSteps?: number;
  /** For messages: "Python 3.11 amd64". */
  target: string;
}

export async function resolve<F>(roots: Requirement[], provider: Provider<F>, opts: ResolveOptions): Promise<Candidate<F>[]> {
  const maxSteps = opts.maxSteps ?? 20_000;
  let steps = 0;
  let firstConflict: string | undefined;
  let sdistNote: string | undefined;

  const fail = (message: string) => {
    firstConflict ??= message;
  };

  const solve = async (state: State<F>, queue: Pending[]): Promise<State<F> | undefined> => {
    if (queue.length === 0) return state;
    const [next, ...rest] = queue as [Pending, ...Pending[]];
    const { req } = next;
    const name = req.name;
    const seen = [...(state.constraints.get(name) ?? []), next];
    const constraints = new Map(state.constraints).set(name, seen);
    const pinned = state.pins.get(name);
    if (pinned) {
      if (!matching([pinned.version], req.specifier).has(pinned.version)) {
        fail(conflictMessage(name, seen, `${name} ${pinned.version} was chosen`));
        return undefined;
      }
      const had = state.extras.get(name) ?? new Set<string>();
      const added = req.extras.filter((e) => !had.has(e));
      if (added.length === 0) return solve({ ...state, constraints }, rest);
      const deps = (await provider.dependencies(pinned, added)) ?? [];
      const extras = new Map(state.extras).set(name, new Set([...had, ...added]));
      const chain = [`${name} ${pinned.version}`, ...next.chain];
      return solve({ ...state, constraints, extras }, [...rest, ...deps.map((d) => ({ req: d, chain }))]);
    }
    const list = await provider.candidates(name);
    const versions = list.candidates.map((c) => c.version);
    let ok = new Set(versions);
    for (const c of seen) {
      const m = matching(versions, c.req.specifier);
      ok = new Set([...ok].filter((v) => m.has(v)));
    }
    const usable = list.candidates.filter((c) => ok.has(c.version));
    if (usable.length === 0) {
      const sdists = [...matching(list.sdistOnly, seen.map((s) => s.req.specifier).filter(Boolean).join(','))];
      if (sdists.length && !list.candidates.length) {
        sdistNote ??= `${name} has only a source distribution (${sdists.join(', ')}) for ${opts.target}, required by ${seen.map(describe).join('; ')}`;
      }
      fail(
        list.candidates.length === 0 && list.sdistOnly.length === 0
          ? `no wheel of ${name} fits ${opts.target}; required by ${seen.map(describe).join('; ')}`
          : conflictMessage(name, seen, `available: ${versions.join(', ') || 'none'}${list.sdistOnly.length ? `; sdist only: ${list.sdistOnly.join(', ')}` : ''}`),
      );
      return undefined;
    }
    const extrasOf = new Set(seen.flatMap((s) => s.req.extras));
    for (const candidate of usable) {
      if (++steps > maxSteps) throw new ResolutionError(`resolution for ${opts.target} gave up after ${maxSteps} attempts`, 'Pin some of the requirements more tightly.');
      const deps = await provider.dependencies(candidate, [...extrasOf]);
      if (!deps) continue;
      provider.prefetch?.(deps.map((d) => d.name));
      const chain = [`${name} ${candidate.version}`, ...next.chain];
      const result = await solve(
        {
          pins: new Map(state.pins).set(name, candidate),
          extras: new Map(state.extras).set(name, extrasOf),
          constraints,
        },
        [...rest, ...deps.map((d) => ({ req: d, chain }))],
      );
      if (result) return result;
    }
    return undefined;
  };

  provider.prefetch?.(roots.map((r) => r.name));
  const result = await solve(
    { pins: new Map(), extras: new Map(), constraints: new Map() },
    roots.map((req) => ({ req, chain: ['requested'] })),
  );
  if (!result) {
    if (sdistNote) {
      throw new ResolutionError(`cannot resolve for ${opts.target}: ${sdistNote}`, 'Pin a version that has a wheel for this target, or build the wheel yourself and serve it from your own index (spec.pip.index).');
    }
    throw new ResolutionError(`cannot resolve for ${opts.target}: ${firstConflict ?? 'no solution'}`, 'Relax or change the conflicting requirements.');
  }
  return [...result.pins.values()];
}

function conflictMessage(name: string, seen: Pending[], what: string): string {
  return `no version of ${name} satisfies all of: ${seen.map(describe).join('; ')} (${what})`;
}
