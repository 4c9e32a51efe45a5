import type { BuildContext, Collector, KindFigures, KindOutput, Unavailable } from '../collector/context.js';
import { collectWith } from '../collector/run.js';
import { fetchPinned, isUnavailable, planPinned, type PinnedPlan } from '../collector/pinned-url.js';
import type { BundleEntry } from '../bundle/entry.js';
import type { LockEntry } from '../lock/entry.js';
import { mapLimit } from '../util/concurrency.js';
import { checkLockedDigest, lockedEntry } from '../lock/locked.js';
import { redactUrl } from '../errors.js';

type Kind = 'file' | 'manifest';
const DIR: Record<Kind, string> = { file: 'repos/files', manifest: 'manifests' };

/**
 * `spec.files` → `repos/files/<name>` and `spec.manifests` → `manifests/<name>`: pinned downloads, each from its URL
 * or an alternate of it, verified as they stream. The bundle keeps the manifest's name for it whichever source gave
 * it; the lock records the original `url` and the `source` fetched.
 */
export const planFiles: Collector = async (ctx) => {
  const m = ctx.manifest;
  const jobs = [...m.files.map((f) => ({ f, kind: 'file' as Kind })), ...m.manifests.map((f) => ({ f, kind: 'manifest' as Kind }))];
  const plans = await mapLimit(jobs, ctx.requests.limit, async ({ f, kind }) => {
    checkLockedDigest(lockedEntry(ctx.locked, kind, f.name), f.sha256, `${kind} ${f.name}`);
    return { kind, plan: await planPinned(ctx, { kind: kind === 'file' ? 'files' : 'manifests', name: f.name, url: f.url, sha256: f.sha256, what: `${kind} ${f.name}` }) };
  });
  const unavailable: Unavailable[] = [];
  const ready: Array<{ kind: Kind; plan: PinnedPlan }> = [];
  for (const { kind, plan } of plans) {
    if (isUnavailable(plan)) unavailable.push(plan);
    else ready.push({ kind, plan });
  }
  const figures = (kind: Kind): KindFigures => {
    const mine = ready.filter((r) => r.kind === kind).map((r) => r.plan);
    const bytes = mine.reduce((n, p) => n + (p.size ?? 0), 0);
    return { count: mine.length, bytes, cachedBytes: mine.reduce((n, p) => n + (p.cached ? (p.size ?? 0) : 0), 0) };
  };
  return {
    kinds: { files: figures('file'), manifests: figures('manifest') },
    unavailable,
    async fetch(): Promise<KindOutput> {
      const done = await mapLimit(ready, ctx.requests.limit, async ({ kind, plan }) => {
        const { blob, source } = await fetchPinned(ctx, plan);
        const name = plan.pin.name;
        const entry: BundleEntry = { path: `${DIR[kind]}/${name}`, file: blob.path, size: blob.size, sha256: blob.sha256, mode: kind === 'file' ? 0o755 : 0o644 };
        const lock: LockEntry = { kind, name, url: redactUrl(plan.pin.url), source: redactUrl(source), size: blob.size, sha256: blob.sha256 };
        return { entry, lock };
      });
      return { entries: done.map((d) => d.entry), lock: done.map((d) => d.lock) };
    },
  };
};

/** Plan, then fetch. */
export const collectFiles = (ctx: BuildContext): Promise<KindOutput> => collectWith(planFiles, ctx);
