/**
 * Build side of `spec.pip`: one resolution per distinct target interpreter, the union of their wheels downloaded
 * (verified against the index hashes) and a static PEP 503/691 index written around them.
 *
 * Plan: the first index that answers (the manifest's, then its alternates) is used; pages, core metadata (PEP 658
 * files, else the wheel's METADATA through Range requests) and sizes are read from it, and no wheel is downloaded.
 * With --locked the plan is the lock's. Fetch: the wheels, then the index pages.
 */
import type { BundleEntry } from '../bundle/entry.js';
import type { BuildContext, Collector, KindOutput, KindPlan, SourceTried, Unavailable } from '../collector/context.js';
import { collectWith, firstAvailable, UnavailableError } from '../collector/run.js';
import { blobFigures } from '../collector/figures.js';
import type { ContentStore } from '../store/content-store.js';
import type { LockEntry } from '../lock/entry.js';
import { DigestMismatchError, KsBundleError, redactUrl } from '../errors.js';
import { sourcesOf } from '../manifest/alternates.js';
import type { DownloadResult } from '../net/download.js';
import { sha256OfString } from '../store/hashing.js';
import { mapLimit } from '../util/concurrency.js';
import { IndexClient } from './client.js';
import { renderIndex, PIP_ROOT, type IndexedWheel } from './index-writer.js';
import { lockedWheels, pipTargets, targetKey, type Picked } from './lock.js';
import { markerEnvFor, parseRequirement, requirementApplies, type Requirement } from './markers.js';
import { parseMetadata } from './metadata.js';
import { describeTarget, IndexProvider, type PipTarget } from './provider.js';
import { matching, resolve } from './resolver.js';
import type { IndexFile } from './simple-index.js';
import { readWheelMetadata } from './zip.js';

export { pipTargets, targetKey } from './lock.js';

/** A wheel as planned: its size, and its METADATA when the plan read it (the bundle's `.metadata` file). */
interface PlannedWheel extends Picked {
  size: number;
  metadata?: Buffer;
}

export const planPip: Collector = async (ctx): Promise<KindPlan> => {
  const spec = ctx.manifest.pip;
  if (!spec || spec.requirements.length === 0) return { kinds: {}, unavailable: [], fetch: async () => ({ entries: [], lock: [] }) };
  const targets = pipTargets(ctx.manifest.targets);
  if (targets.length === 0) throw new KsBundleError('INVALID_INPUT', 'pip: the manifest has no targets to resolve wheels for');
  const roots = spec.requirements.map(parseRequirement);
  const indexes = sourcesOf(spec.index, ctx.manifest.alternates);
  let wheels: PlannedWheel[];
  let client: IndexClient | undefined;
  if (ctx.locked) {
    wheels = lockedWheels(ctx.locked, roots, targets, indexes).map((p) => ({ ...p, size: p.file.size ?? 0 }));
  } else {
    const chosen = await firstAvailable(indexes, (index) => probeIndex(ctx, index), redactUrl);
    if (chosen.value === undefined) return unavailablePlan(roots.map((r) => ({ kind: 'wheels', name: r.raw, tried: chosen.tried })));
    client = new IndexClient({ index: chosen.source, store: ctx.store, onProgress: ctx.onProgress, http: ctx.http, requests: ctx.requests });
    const missing = await missingRoots(client, roots, targets, chosen.tried);
    if (missing.length) return unavailablePlan(missing);
    wheels = await resolveAll(ctx, client, roots, targets);
  }
  return {
    kinds: { wheels: await blobFigures(wheels.map((w) => ({ sha256: w.file.sha256, size: w.size })), ctx.store) },
    generatedBytes: await generatedBytes(wheels, ctx.store),
    unavailable: [],
    fetch: async () => {
      ctx.onProgress({ type: 'phase', phase: 'pip', message: `downloading ${wheels.length} wheels` });
      return writeOutput(await downloadAll(ctx, spec, client, wheels));
    },
  };
};

/** Plan, then fetch. */
export const collectPip = (ctx: BuildContext): Promise<KindOutput> => collectWith(planPip, ctx);

function unavailablePlan(unavailable: Unavailable[]): KindPlan {
  return { kinds: {}, unavailable, fetch: async () => ({ entries: [], lock: [] }) };
}

/** An index answers when its root page does (HEAD: PyPI's root page is tens of megabytes). */
async function probeIndex(ctx: BuildContext, index: string): Promise<true> {
  await ctx.requests.run(() => ctx.http.request(index.endsWith('/') ? index : index + '/', { method: 'HEAD', what: 'pip index', accept: (s) => s === 405 || s === 501 }));
  return true;
}

/** Requirements the chosen index has no fitting version of (a project it lacks, a pinned version it lacks). */
async function missingRoots(client: IndexClient, roots: Requirement[], targets: PipTarget[], tried: SourceTried[]): Promise<Unavailable[]> {
  const out = new Map<string, Unavailable>();
  for (const target of targets) {
    const provider = new IndexProvider(client, target);
    const env = markerEnvFor(target);
    for (const req of roots) {
      if (out.has(req.raw) || !requirementApplies(req, env, [])) continue;
      const list = await provider.candidates(req.name);
      const versions = list.candidates.map((c) => c.version);
      if (matching(versions, req.specifier).size) continue;
      const has = versions.length ? `it has ${versions.join(', ')} for ${describeTarget(target)}` : `no wheel of ${req.name} for ${describeTarget(target)}`;
      out.set(req.raw, { kind: 'wheels', name: req.raw, tried: [...tried, { source: redactUrl(client.pageUrl(req.name)), error: 'not-found', message: has }] });
    }
  }
  return [...out.values()];
}

async function resolveAll(ctx: BuildContext, client: IndexClient, roots: Requirement[], targets: PipTarget[]): Promise<PlannedWheel[]> {
  const picked = new Map<string, Picked>();
  for (const target of targets) {
    ctx.onProgress({ type: 'phase', phase: 'pip', message: `resolving ${roots.length} requirements for ${describeTarget(target)}` });
    const solution = await resolve(roots, new IndexProvider(client, target), { target: describeTarget(target) });
    for (const c of solution) {
      const had = picked.get(c.file.file.filename);
      if (had) had.targets.push(targetKey(target));
      else picked.set(c.file.file.filename, { project: c.name, version: c.version, file: c.file.file, distribution: c.file.wheel.distribution, targets: [targetKey(target)] });
    }
  }
  const list = [...picked.values()].sort((a, b) => (a.file.filename < b.file.filename ? -1 : 1));
  return mapLimit(list, ctx.requests.limit, async (p) => {
    const size = await client.size(p.file);
    if (size === undefined) throw new KsBundleError('HTTP', `${p.file.filename}: the index gives no size and ${redactUrl(p.file.url)} answers neither HEAD with a length nor a Range request`);
    return { ...p, size, metadata: await client.metadata(p.file, p.distribution) };
  });
}

/** The index pages and `.metadata` files the bundle gets, rendered now as fetch will (estimated for a locked wheel not in the cache). */
async function generatedBytes(wheels: PlannedWheel[], store: ContentStore): Promise<number> {
  const UNREAD_METADATA = 4096;
  let n = 0;
  const indexed: IndexedWheel[] = [];
  for (const w of wheels) {
    const stored = !w.metadata && w.file.sha256 ? await store.has(w.file.sha256, w.size) : undefined;
    const metadata = w.metadata ?? (stored ? await readWheelMetadata(stored.path, w.distribution) : undefined);
    n += metadata?.length ?? UNREAD_METADATA;
    const requiresPython = (metadata && parseMetadata(metadata.toString('utf8')).requiresPython) ?? w.file.requiresPython;
    indexed.push({ project: w.project, filename: w.file.filename, sha256: w.file.sha256 ?? '', requiresPython, metadataSha256: '0'.repeat(64) });
  }
  for (const text of renderIndex(indexed).values()) n += Buffer.byteLength(text, 'utf8');
  return n;
}

/** Where a wheel may be fetched: a URL, or an index whose page of the project lists it. */
type WheelSource = { url: string } | { index: string };

/**
 * Each wheel from where it was planned (or locked), then from whichever index (the manifest's, then its alternates)
 * lists the same file with the same sha256; what none serves is unavailable. The lock gets the URL fetched.
 */
async function downloadAll(ctx: BuildContext, spec: { index: string }, first: IndexClient | undefined, wheels: Picked[]): Promise<Array<{ picked: Picked; blob: DownloadResult }>> {
  const clients = new Map<string, IndexClient>();
  if (first) clients.set(first.index, first);
  const clientOf = (index: string): IndexClient => {
    const key = index.endsWith('/') ? index : index + '/';
    let c = clients.get(key);
    if (!c) clients.set(key, (c = new IndexClient({ index: key, store: ctx.store, onProgress: ctx.onProgress, http: ctx.http, requests: ctx.requests })));
    return c;
  };
  const indexes = sourcesOf(spec.index, ctx.manifest.alternates);
  // One client downloads everything: one cache of downloads whichever index listed the wheel.
  const downloader = first ?? clientOf(indexes[0]!);
  const missing: Unavailable[] = [];
  const got = await mapLimit(wheels, ctx.requests.limit, async (w) => {
    const sources: WheelSource[] = [{ url: w.file.url }, ...indexes.map((index) => ({ index }))];
    const attempt = async (s: WheelSource) => {
      const file = 'url' in s ? w.file : await listedFile(clientOf(s.index), w);
      return { blob: await downloader.download(file), url: file.url };
    };
    const shown = (s: WheelSource) => redactUrl('url' in s ? s.url : clientOf(s.index).pageUrl(w.project));
    const r = await firstAvailable(sources, attempt, shown);
    if (!r.value) missing.push({ kind: 'wheels', name: w.file.filename, tried: r.tried });
    return r.value ? { picked: { ...w, file: { ...w.file, url: r.value.url } }, blob: r.value.blob } : undefined;
  });
  if (missing.length) throw new UnavailableError(missing);
  return got.map((g) => g!);
}

/** The same wheel as an index lists it: same file name, and the same sha256 when the index gives one. */
async function listedFile(client: IndexClient, w: Picked): Promise<IndexFile> {
  const page = client.pageUrl(w.project);
  const f = (await client.project(w.project)).files.find((x) => x.filename === w.file.filename);
  if (!f) throw new KsBundleError('HTTP', `${redactUrl(page)} does not list ${w.file.filename}`, { reason: 'not-found' });
  if (f.sha256 && w.file.sha256 && f.sha256 !== w.file.sha256) {
    throw new DigestMismatchError(`${redactUrl(page)} lists ${w.file.filename} with sha256 ${f.sha256}, expected ${w.file.sha256}`, w.file.sha256, f.sha256);
  }
  return { ...w.file, url: f.url };
}

async function writeOutput(got: Array<{ picked: Picked; blob: DownloadResult }>): Promise<KindOutput> {
  const entries: BundleEntry[] = [];
  const lock: LockEntry[] = [];
  const indexed: IndexedWheel[] = [];
  for (const { picked: p, blob } of got) {
    // The bundle's PEP 658 file is the wheel's own METADATA, byte for byte, whatever the upstream offered.
    const metadata = await readWheelMetadata(blob.path, p.distribution);
    const requiresPython = parseMetadata(metadata.toString('utf8')).requiresPython ?? p.file.requiresPython;
    const metadataSha256 = sha256OfString(metadata);
    entries.push({ path: `${PIP_ROOT}/files/${p.file.filename}`, file: blob.path, size: blob.size, sha256: blob.sha256 });
    entries.push({ path: `${PIP_ROOT}/files/${p.file.filename}.metadata`, data: metadata, size: metadata.length, sha256: metadataSha256 });
    indexed.push({ project: p.project, filename: p.file.filename, sha256: blob.sha256, requiresPython, metadataSha256 });
    lock.push({
      kind: 'wheel',
      name: p.file.filename,
      version: p.version,
      source: redactUrl(p.file.url),
      size: blob.size,
      sha256: blob.sha256,
      extra: { project: p.project, targets: [...p.targets].sort(), ...(requiresPython ? { requiresPython } : {}) },
    });
  }
  for (const [path, text] of renderIndex(indexed)) {
    const data = Buffer.from(text, 'utf8');
    entries.push({ path, data, size: data.length, sha256: sha256OfString(data) });
  }
  return { entries, lock };
}
