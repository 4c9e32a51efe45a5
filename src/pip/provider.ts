/** The resolver's view of the index for one target: compatible wheels per version, and their requirements. */
import { rcompare, satisfies, valid } from '@renovatebot/pep440';
import type { IndexClient } from './client.js';
import { markerEnvFor, parseRequirement, requirementApplies, type MarkerEnv, type Requirement } from './markers.js';
import { parseMetadata } from './metadata.js';
import { normalizeName } from './names.js';
import type { Candidate, CandidateList, Provider } from './resolver.js';
import type { IndexFile } from './simple-index.js';
import { isSdist, parseWheelFilename, sdistVersion, wheelRank, type TagEnv, type WheelName } from './wheel-tags.js';

export interface PipTarget extends TagEnv {}

export interface ChosenWheel {
  file: IndexFile;
  wheel: WheelName;
}

export function describeTarget(t: PipTarget): string {
  return `Python ${t.python} ${t.arch} (glibc ${t.glibc})`;
}

/** Does the target interpreter satisfy a Requires-Python? Unparseable specifiers do not exclude (as pip). */
export function pythonAllows(requiresPython: string | undefined, env: MarkerEnv): boolean {
  if (!requiresPython) return true;
  const spec = requiresPython.replace(/\s+/g, '');
  try {
    return satisfies(env.python_full_version!, spec, { prereleases: true });
  } catch {
    return true;
  }
}

export class IndexProvider implements Provider<ChosenWheel> {
  readonly env: MarkerEnv;
  private readonly lists = new Map<string, Promise<CandidateList<ChosenWheel>>>();

  constructor(private readonly client: IndexClient, readonly target: PipTarget) {
    this.env = markerEnvFor(target);
  }

  candidates(name: string): Promise<CandidateList<ChosenWheel>> {
    let list = this.lists.get(name);
    if (!list) {
      list = this.client.project(name).then((page) => this.select(name, page.files));
      list.catch(() => {});
      this.lists.set(name, list);
    }
    return list;
  }

  /** Per version the wheel pip would pick; yanked files and those whose Requires-Python excludes the target are skipped. */
  private select(project: string, files: IndexFile[]): CandidateList<ChosenWheel> {
    const best = new Map<string, { rank: number; chosen: ChosenWheel }>();
    const sdists = new Set<string>();
    for (const file of files) {
      if (file.yanked !== false || !pythonAllows(file.requiresPython, this.env)) continue;
      const wheel = parseWheelFilename(file.filename);
      if (!wheel) {
        const v = isSdist(file.filename) ? sdistVersion(file.filename, project) : undefined;
        if (v && valid(v)) sdists.add(v);
        continue;
      }
      if (wheel.project !== project || !valid(wheel.version)) continue;
      const rank = wheelRank(wheel, this.target);
      if (rank === undefined) continue;
      const key = valid(wheel.version)!;
      const had = best.get(key);
      if (!had || rank < had.rank) best.set(key, { rank, chosen: { file, wheel } });
    }
    const candidates: Candidate<ChosenWheel>[] = [...best.entries()]
      .sort(([a], [b]) => rcompare(a, b))
      .map(([version, { chosen }]) => ({ name: project, version, file: chosen }));
    const sdistOnly = [...sdists].filter((v) => !best.has(v)).sort(rcompare);
    return { candidates, sdistOnly };
  }

  async dependencies(candidate: Candidate<ChosenWheel>, extras: string[]): Promise<Requirement[] | undefined> {
    const meta = parseMetadata((await this.client.metadata(candidate.file.file, candidate.file.wheel.distribution)).toString('utf8'));
    if (!pythonAllows(meta.requiresPython, this.env)) return undefined;
    const wanted = extras.map(normalizeName);
    return meta.requiresDist.map(parseRequirement).filter((r) => requirementApplies(r, this.env, wanted));
  }

  /** Fetch pages, and the metadata of each newest candidate, while the resolver works on something else. */
  prefetch(names: string[]): void {
    for (const name of names) {
      this.candidates(name)
        .then((list) => {
          const first = list.candidates[0];
          if (first) return this.client.metadata(first.file.file, first.file.wheel.distribution);
        })
        .catch(() => {});
    }
  }
}
