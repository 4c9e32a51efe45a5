/**
 * Build side of `spec.pip`: one resolution per distinct target interpreter, the union of their wheels downloaded
 * (verified against the index hashes) and a static PEP 503/691 index written around them.
 * With --locked, exactly the locked wheels are fetched instead, and the lock must still cover the requirements.
 */
import type { BundleEntry } from '../bundle/entry.js';
import type { BuildContext, Collector, KindOutput } from '../collector/context.js';
import { collectWith, resolvedInFetch } from '../collector/run.js';
import type { LockEntry } from '../lock/entry.js';
import { KsBundleError, redactUrl, withCredentialsOf } from '../errors.js';
import type { Target } from '../manifest/types.js';
import { satisfies } from '@renovatebot/pep440';
import { IndexClient } from './client.js';
import { renderIndex, PIP_ROOT, type IndexedWheel } from './index-writer.js';
import { parseRequirement, requirementApplies, markerEnvFor } from './markers.js';
import { parseMetadata } from './metadata.js';
import { describeTarget, IndexProvider, type ChosenWheel, type PipTarget } from './provider.js';
import { resolve } from './resolver.js';
import { sha256OfString } from '../store/hashing.js';
import { readWheelMetadata } from './zip.js';
import { parseWheelFilename } from './wheel-tags.js';
import type { IndexFile } from './simple-index.js';
import { mapLimit } from '../util/concurrency.js';

/** Distinct interpreters among the targets; wheel choice depends on python, arch and glibc alike. */
export function pipTargets(targets: Pick<Target, 'python' | 'arch' | 'glibc'>[]): PipTarget[] {
  const seen = new Map<string, PipTarget>();
  for (const t of targets) seen.set(targetKey(t), { python: t.python, arch: t.arch, glibc: t.glibc });
  return [...seen.values()];
}

export function targetKey(t: PipTarget): string {
  return `cp${t.python}-${t.arch}-glibc${t.glibc}`;
}

interface Picked {
  project: string;
  version: string;
  file: IndexFile;
  distribution: string;
  targets: string[];
}

async function fetchPip(ctx: BuildContext): Promise<KindOutput> {
  const spec = ctx.manifest.pip;
  if (!spec || spec.requirements.length === 0) return { entries: [], lock: [] };
  const targets = pipTargets(ctx.manifest.targets);
  if (targets.length === 0) throw new KsBundleError('INVALID_INPUT', 'pip: the manifest has no targets to resolve wheels for');
  const client = new IndexClient({ index: spec.index, store: ctx.store, onProgress: ctx.onProgress, http: ctx.http, requests: ctx.requests });
  const roots = spec.requirements.map(parseRequirement);
  const picked = new Map<string, Picked>();

  if (ctx.locked) {
    for (const p of lockedWheels(ctx.locked, roots, targets, spec.index)) picked.set(p.file.filename, p);
  } else {
    for (const target of targets) {
      ctx.onProgress({ type: 'phase', phase: 'pip', message: `resolving ${spec.requirements.length} requirements for ${describeTarget(target)}` });
      const provider = new IndexProvider(client, target);
      const solution = await resolve(roots, provider, { target: describeTarget(target) });
      for (const c of solution) {
        const chosen: ChosenWheel = c.file;
        const had = picked.get(chosen.file.filename);
        if (had) had.targets.push(targetKey(target));
        else picked.set(chosen.file.filename, { project: c.name, version: c.version, file: chosen.file, distribution: chosen.wheel.distribution, targets: [targetKey(target)] });
      }
    }
  }

  ctx.onProgress({ type: 'phase', phase: 'pip', message: `downloading ${picked.size} wheels` });
  const list = [...picked.values()].sort((a, b) => (a.file.filename < b.file.filename ? -1 : 1));
  const blobs = await mapLimit(list, ctx.requests.limit, (p) => client.download(p.file));
  return writeOutput(list, blobs);
};

async function writeOutput(list: Picked[], blobs: { sha256: string; size: number; path: string }[]): Promise<KindOutput> {
  const entries: BundleEntry[] = [];
  const lock: LockEntry[] = [];
  const indexed: IndexedWheel[] = [];
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    const blob = blobs[i]!;
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

/**
 * The locked wheels as download jobs. The lock must still answer the manifest: every requirement that applies to
 * a target needs a locked wheel of that project and a satisfying version for that target.
 */
function lockedWheels(locked: LockEntry[], roots: ReturnType<typeof parseRequirement>[], targets: PipTarget[], index: string): Picked[] {
  const wheels = locked.filter((e) => e.kind === 'wheel');
  const out: Picked[] = wheels.map((e) => {
    const wheel = parseWheelFilename(e.name);
    const project = String(e.extra?.project ?? wheel?.project ?? '');
    if (!wheel || !project) throw new KsBundleError('INVALID_INPUT', `lock: ${e.name} is not a wheel file name`);
    return {
      project,
      version: e.version ?? wheel.version,
      distribution: wheel.distribution,
      targets: Array.isArray(e.extra?.targets) ? (e.extra!.targets as string[]) : [],
      file: { filename: e.name, url: withCredentialsOf(e.source, [index]), sha256: e.sha256, yanked: false },
    };
  });
  const problems: string[] = [];
  for (const target of targets) {
    const key = targetKey(target);
    const env = markerEnvFor(target);
    for (const req of roots) {
      if (!requirementApplies(req, env, [])) continue;
      const hit = out.find((p) => p.project === req.name && (p.targets.length === 0 || p.targets.includes(key)) && (!req.specifier || satisfies(p.version, req.specifier, { prereleases: true })));
      if (!hit) problems.push(`${req.raw} for ${describeTarget(target)}: no locked wheel satisfies it`);
    }
  }
  if (problems.length) {
    throw new KsBundleError('INVALID_INPUT', `pip: the lock differs from the manifest:\n  ${problems.join('\n  ')}`, {
      hint: 'Build without --locked to resolve again and write a new lock.',
    });
  }
  return out;
}

export const planPip: Collector = async (ctx) => resolvedInFetch(() => fetchPip(ctx));

/** Plan, then fetch. */
export const collectPip = (ctx: BuildContext): Promise<KindOutput> => collectWith(planPip, ctx);
