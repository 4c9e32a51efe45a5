import type { BuildContext, Collector, KindOutput } from '../collector/context.js';
import { collectWith, resolvedInFetch } from '../collector/run.js';
import type { BundleEntry } from '../bundle/entry.js';
import type { LockEntry } from '../lock/entry.js';
import { mapLimit } from '../util/concurrency.js';
import { checkLockedDigest, lockedEntry } from '../lock/locked.js';
import type { PinnedFile } from '../manifest/types.js';
import { redactUrl } from '../errors.js';

/** `spec.files` → `repos/files/<name>` and `spec.manifests` → `manifests/<name>`: pinned downloads, verified as they stream. */
async function fetchFiles(ctx: BuildContext): Promise<KindOutput> {
  const m = ctx.manifest;
  const jobs: Array<{ f: PinnedFile; kind: 'file' | 'manifest'; dir: string }> = [
    ...m.files.map((f) => ({ f, kind: 'file' as const, dir: 'repos/files' })),
    ...m.manifests.map((f) => ({ f, kind: 'manifest' as const, dir: 'manifests' })),
  ];
  const done = await mapLimit(jobs, ctx.requests.limit, async ({ f, kind, dir }) => {
    checkLockedDigest(lockedEntry(ctx.locked, kind, f.name), f.sha256, `${kind} ${f.name}`);
    const blob = await ctx.requests.run(() =>
      ctx.http.download({ url: f.url, sha256: f.sha256, what: `${kind} ${f.name}`, sourceMustMatch: true }, { store: ctx.store, onProgress: ctx.onProgress }),
    );
    const entry: BundleEntry = { path: `${dir}/${f.name}`, file: blob.path, size: blob.size, sha256: blob.sha256, mode: kind === 'file' ? 0o755 : 0o644 };
    const lock: LockEntry = { kind, name: f.name, source: redactUrl(f.url), size: blob.size, sha256: blob.sha256 };
    return { entry, lock };
  });
  return { entries: done.map((d) => d.entry), lock: done.map((d) => d.lock) };
}

export const planFiles: Collector = async (ctx) => resolvedInFetch(() => fetchFiles(ctx));

/** Plan, then fetch. */
export const collectFiles = (ctx: BuildContext): Promise<KindOutput> => collectWith(planFiles, ctx);
