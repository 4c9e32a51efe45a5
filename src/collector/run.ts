import { KsBundleError, unavailableReason, type UnavailableReason } from '../errors.js';
import type { BuildContext, Collector, KindOutput, KindPlan, SourceTried, Unavailable } from './context.js';

/**
 * Plan, then fetch: what a build does with one collector. Everything unavailable is reported at once, with every
 * source tried, before anything is downloaded.
 */
export async function collectWith(collector: Collector, ctx: BuildContext): Promise<KindOutput> {
  const plan = await collector(ctx);
  if (plan.unavailable.length) throw new UnavailableError(plan.unavailable);
  return plan.fetch();
}

/** A collector that does not resolve ahead yet: it reports no figures, and does all its work in `fetch`. */
export function resolvedInFetch(fetch: () => Promise<KindOutput>): KindPlan {
  return { kinds: {}, unavailable: [], fetch };
}

const WHAT_TO_DO: Record<UnavailableReason, string> = {
  'not-found': 'it is gone from there: add an alternate source under spec.alternates (see the README, "Gone upstream")',
  unauthorized:
    'give credentials or check the ones given: for a registry --registry-auth FILE, ~/.docker/config.json or KS_BUNDLE_REGISTRY_AUTH_<HOST>; for a file, archive or index, user:password@ in its URL',
  network: 'check the network, DNS and the proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)',
  'digest-mismatch': 'the source now serves other content than the pin: check which is right before changing the pin or the lock',
};

/** The upstream's words, without the source they often begin with (it is already at the start of the line). */
function withoutSource(t: SourceTried): string {
  return t.message.startsWith(`${t.source}: `) ? t.message.slice(t.source.length + 2) : t.message;
}

/** Artifacts no source could give, each with every source tried. Exit 1, or 3 when every failure was a digest mismatch. */
export class UnavailableError extends KsBundleError {
  readonly unavailable: Unavailable[];
  constructor(unavailable: Unavailable[]) {
    const lines = unavailable.flatMap((u) => [`${u.kind} ${u.name}:`, ...u.tried.map((t) => `  ${t.source}: ${t.error}: ${withoutSource(t)}`)]);
    const reasons = [...new Set(unavailable.flatMap((u) => u.tried.map((t) => t.error)))];
    const onlyMismatch = reasons.length === 1 && reasons[0] === 'digest-mismatch';
    super(onlyMismatch ? 'INTEGRITY' : 'RESOLVE', `${unavailable.length} artifact${unavailable.length === 1 ? '' : 's'} could not be fetched from any source:\n${lines.join('\n')}`, {
      hint: reasons.map((r) => `${r}: ${WHAT_TO_DO[r]}`).join('\n'),
      ...(reasons.length === 1 ? { reason: reasons[0] } : {}),
    });
    this.unavailable = unavailable;
  }
}

/**
 * Try each source in order (the original name first, then its alternates) until one gives the artifact. A failure
 * that says the source cannot give it (not found, unauthorized, unreachable, other content) moves on to the next;
 * any other failure stops at once. `source` is how a source is shown (already redacted).
 */
export async function firstAvailable<S, T>(
  sources: readonly S[],
  attempt: (source: S) => Promise<T>,
  shown: (source: S) => string,
): Promise<{ value: T; source: S; tried: SourceTried[] } | { value?: undefined; tried: SourceTried[] }> {
  const tried: SourceTried[] = [];
  for (const source of sources) {
    try {
      return { value: await attempt(source), source, tried };
    } catch (err) {
      const error = unavailableReason(err);
      if (!error) throw err;
      tried.push({ source: shown(source), error, message: (err as Error).message });
    }
  }
  return { tried };
}
