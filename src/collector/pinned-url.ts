import { redactUrl } from '../errors.js';
import { sourcesOf } from '../manifest/alternates.js';
import type { DownloadResult } from '../net/download.js';
import type { BuildContext, PlanKind, SourceTried, Unavailable } from './context.js';
import { firstAvailable, UnavailableError } from './run.js';

/** One artifact a manifest pins by URL and sha256: a file, a manifest, the playbooks archive, a runtime tarball. */
export interface PinnedUrl {
  kind: PlanKind;
  /** As the manifest names it (a file name, `playbooks`, `node-amd64`). */
  name: string;
  url: string;
  sha256: string;
  /** Label for progress and errors. */
  what: string;
}

/** Where a pinned URL will be fetched from, decided with nothing downloaded. */
export interface PinnedPlan {
  pin: PinnedUrl;
  /** The original URL, then its alternates; the fetch starts at `sources[from]`. */
  sources: string[];
  from: number;
  /** Bytes it serves (undefined when the server would not say). */
  size?: number;
  /** Already in the content store from one of the sources: nothing to download. */
  cached: boolean;
  /** Sources that could not give it, in order. */
  tried: SourceTried[];
}

/**
 * The plan phase for a pinned URL: a blob already in the store from any of its sources needs nothing; otherwise the
 * original URL and then each alternate (`spec.alternates`) is asked for its size (HEAD or a one-byte range), and the
 * first that answers is where the fetch starts. None answering is an Unavailable naming every source and why.
 */
export async function planPinned(ctx: BuildContext, pin: PinnedUrl): Promise<PinnedPlan | Unavailable> {
  const sources = sourcesOf(pin.url, ctx.manifest.alternates);
  for (const [from, source] of sources.entries()) {
    const have = await ctx.store.has(pin.sha256, undefined, source);
    if (have) return { pin, sources, from, size: have.size, cached: true, tried: [] };
  }
  const found = await firstAvailable(sources, (s) => ctx.requests.run(() => ctx.http.probe(s, { what: pin.what })), redactUrl);
  if (found.value === undefined) return { kind: pin.kind, name: pin.name, tried: found.tried };
  return { pin, sources, from: sources.indexOf(found.source), size: found.value.size, cached: false, tried: found.tried };
}

export function isUnavailable(p: PinnedPlan | Unavailable): p is Unavailable {
  return !('pin' in p);
}

/**
 * The fetch phase: download from the planned source, verified as it streams; a source serving other bytes than the
 * pin (a DigestMismatchError naming both sha256) or gone since the plan moves on to the next alternate. The blob and
 * the URL that gave it; none giving it is an UnavailableError listing every source tried, the plan's included.
 */
export async function fetchPinned(ctx: BuildContext, plan: PinnedPlan): Promise<{ blob: DownloadResult; source: string }> {
  const { pin } = plan;
  const found = await firstAvailable(
    plan.sources.slice(plan.from),
    (url) => ctx.requests.run(() => ctx.http.download({ url, sha256: pin.sha256, what: pin.what, sourceMustMatch: true }, { store: ctx.store, onProgress: ctx.onProgress })),
    redactUrl,
  );
  if (found.value === undefined) throw new UnavailableError([{ kind: pin.kind, name: pin.name, tried: [...plan.tried, ...found.tried] }]);
  return { blob: found.value, source: found.source };
}
