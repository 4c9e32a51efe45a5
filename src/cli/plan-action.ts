import { relative } from 'node:path';
import { openSession, planSession, type BundlePlan, type BuildSession } from '../assemble/plan.js';
import { PLAN_KINDS } from '../collector/context.js';
import { UnavailableError } from '../collector/run.js';
import { KsBundleError } from '../errors.js';
import { formatBytes, table } from '../progress/format.js';
import { bytesBoth, diskShortfalls } from '../util/disk-space.js';
import { planOptionsOf } from './build-options.js';
import { withCancellableHttp } from './http.js';
import { createRenderer, progressMode } from './progress.js';

/** `ks-bundle plan`, its command line parsed (cli/plan.ts). */
export async function planAction(o: Record<string, any>): Promise<void> {
  // Progress goes to stderr even with --json: stdout holds the one document.
  const renderer = await createRenderer(progressMode(false));
  let session: BuildSession | undefined;
  try {
    const { plan, s } = await withCancellableHttp(async (http, signal) => {
      session = await openSession(planOptionsOf(o, http, signal, renderer.onProgress));
      return { plan: await planSession(session), s: session };
    });
    renderer.stop();
    process.stdout.write(o.json ? JSON.stringify(planDocument(plan), null, 2) + '\n' : planText(plan, s));
    if (plan.unavailable.length) {
      // Exit 1 whatever the reasons: for plan, something is missing (build says 3 when it is all digest mismatches).
      const err = new UnavailableError(plan.unavailable);
      throw new KsBundleError(err.code, err.message, { hint: err.hint, exitCode: 1 });
    }
  } finally {
    renderer.stop();
    await session?.dispose();
  }
}

/** `plan --json`: exactly these keys, in this order. */
export function planDocument(p: BundlePlan) {
  return {
    kinds: Object.fromEntries(PLAN_KINDS.map((k) => [k, { count: p.kinds[k].count, bytes: p.kinds[k].bytes, cachedBytes: p.kinds[k].cachedBytes }])),
    bundleBytes: p.bundleBytes,
    diskNeeded: p.disk.neededAtOutput,
    diskFree: p.disk.freeAtOutput,
    unavailable: p.unavailable.map((u) => ({ kind: u.kind, name: u.name, tried: u.tried.map((t) => ({ source: t.source, error: t.error })) })),
  };
}

function planText(p: BundlePlan, s: BuildSession): string {
  const rows = [['kind', 'count', 'bytes', 'in cache'], ...PLAN_KINDS.map((k) => [k, String(p.kinds[k].count), formatBytes(p.kinds[k].bytes), formatBytes(p.kinds[k].cachedBytes)])];
  // Paths under the working folder as the user would type them; others in full.
  const shown = (path: string) => {
    const rel = relative(process.cwd(), path);
    return !rel ? '.' : rel.startsWith('..') ? path : rel;
  };
  const estimate = s.since ? 'at most ' : s.compress === 'gzip' ? 'at most (before gzip) ' : 'about ';
  const { output, cache, shared } = p.disk;
  const lines = [
    `plan of ${s.manifest.name} ${s.manifest.version} (${shown(s.manifest.file)})`,
    '',
    table(rows),
    '',
    `bundle    ${shown(s.out)}: ${estimate}${bytesBoth(p.bundleBytes)}`,
    `download  ${bytesBoth(p.toDownload)} not in the cache yet (${shown(cache.dir)})`,
    shared
      ? `disk      ${shown(output.dir)}: needs ${bytesBoth(p.disk.neededAtOutput)} (the bundle and the downloads: the cache is on the same file system), ${bytesBoth(output.free)} free`
      : `disk      ${shown(output.dir)}: needs ${bytesBoth(output.bytes)} (the bundle), ${bytesBoth(output.free)} free\n` +
        `          ${shown(cache.dir)}: needs ${bytesBoth(cache.bytes)} (the downloads), ${bytesBoth(cache.free)} free`,
  ];
  for (const short of diskShortfalls([output, cache])) {
    lines.push(`warning   not enough space: ${short.needs.map((n) => n.dir).join(' and ')} need ${bytesBoth(short.needed)}, ${bytesBoth(short.free)} free; build would stop before downloading`);
  }
  lines.push(p.unavailable.length ? `missing   ${p.unavailable.length} artifact(s) no source can give (below)` : 'missing   nothing: every artifact is available');
  return lines.join('\n') + '\n';
}
