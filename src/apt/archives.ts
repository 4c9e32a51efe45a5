/**
 * Which archive serves each apt source: its own `url` first, then the alternates whose prefix it starts with. The
 * first archive whose Release for the suite verifies against the source's keyring is used for that suite; one that
 * is gone, refuses us or cannot be reached is passed over (and remembered, for `plan`). A Release that does not
 * verify stops the build: that is not an absence.
 */
import { redactUrl } from '../errors.js';
import type { SourceTried, Unavailable } from '../collector/context.js';
import { firstAvailable } from '../collector/run.js';
import { sourcesOf } from '../manifest/alternates.js';
import type { Alternate, AptSource } from '../manifest/types.js';
import { archiveRoot, fetchSuiteRelease, type SuiteRelease, type UpstreamOptions } from './upstream.js';

export interface ArchiveChoice {
  source: AptSource;
  suite: string;
  /** The verified Release of the first archive that answered (its `source.url` is that archive); none answered when absent. */
  rel?: SuiteRelease;
  /** The archives passed over before it, each with why. */
  tried: SourceTried[];
}

/** One choice per source and suite for the whole build (several targets share them). */
export type ArchiveChoices = Map<string, Promise<ArchiveChoice>>;

/** The archives to try for a source, in order: its own URL, then each alternate. */
export function archivesOf(source: AptSource, alternates: readonly Alternate[]): AptSource[] {
  return sourcesOf(source.url, alternates).map((url) => ({ ...source, url }));
}

export function distsUrlOf(source: AptSource, suite: string): string {
  return `${archiveRoot(source)}dists/${suite}/`;
}

export function chooseArchive(choices: ArchiveChoices, source: AptSource, suite: string, alternates: readonly Alternate[], opts: UpstreamOptions): Promise<ArchiveChoice> {
  const key = `${source.name}|${suite}`;
  let p = choices.get(key);
  if (!p) {
    p = firstAvailable(archivesOf(source, alternates), (s) => fetchSuiteRelease(s, suite, opts), (s) => redactUrl(distsUrlOf(s, suite))).then((r) => ({
      source,
      suite,
      rel: r.value,
      tried: r.tried,
    }));
    choices.set(key, p);
  }
  return p;
}

/** A suite no archive answered for: nothing of the target's closure can be trusted without it. */
export function suiteUnavailable(choice: ArchiveChoice): Unavailable {
  return { kind: 'debs', name: `${choice.source.name} ${choice.suite} (its Release)`, tried: choice.tried };
}
