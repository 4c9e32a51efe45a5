/**
 * The pip kind in the lock: one `wheel` entry per wheel (its project, version, the targets it is for, the URL it was
 * fetched from). With `--locked` exactly these wheels are fetched, and the lock must still answer the manifest.
 */
import { satisfies } from '@renovatebot/pep440';
import { KsBundleError, withCredentialsOf } from '../errors.js';
import type { LockEntry } from '../lock/entry.js';
import type { Target } from '../manifest/types.js';
import { markerEnvFor, requirementApplies, type Requirement } from './markers.js';
import { describeTarget, type PipTarget } from './provider.js';
import type { IndexFile } from './simple-index.js';
import { parseWheelFilename } from './wheel-tags.js';

/** A wheel chosen for the bundle, and the targets it is for. */
export interface Picked {
  project: string;
  version: string;
  file: IndexFile;
  distribution: string;
  targets: string[];
}

/** Distinct interpreters among the targets; wheel choice depends on python, arch and glibc alike. */
export function pipTargets(targets: Pick<Target, 'python' | 'arch' | 'glibc'>[]): PipTarget[] {
  const seen = new Map<string, PipTarget>();
  for (const t of targets) seen.set(targetKey(t), { python: t.python, arch: t.arch, glibc: t.glibc });
  return [...seen.values()];
}

export function targetKey(t: PipTarget): string {
  return `cp${t.python}-${t.arch}-glibc${t.glibc}`;
}

/**
 * The locked wheels as download jobs (sized by the lock). The lock must still answer the manifest: every requirement
 * that applies to a target needs a locked wheel of that project and a satisfying version for that target.
 * `indexUrls` hold the credentials the lock's redacted URLs get back.
 */
export function lockedWheels(locked: LockEntry[], roots: Requirement[], targets: PipTarget[], indexUrls: string[]): Picked[] {
  const wheels = locked.filter((e) => e.kind === 'wheel');
  const out: Picked[] = wheels.map((e) => {
    const wheel = parseWheelFilename(e.name);
    const project = String(e.extra?.project ?? wheel?.project ?? '');
    if (!wheel || !project) throw new KsBundleError('INVALID_INPUT', `lock: ${e.name} is not a wheel file name`);
    const requiresPython = typeof e.extra?.requiresPython === 'string' ? e.extra.requiresPython : undefined;
    return {
      project,
      version: e.version ?? wheel.version,
      distribution: wheel.distribution,
      targets: Array.isArray(e.extra?.targets) ? (e.extra!.targets as string[]) : [],
      file: { filename: e.name, url: withCredentialsOf(e.source, indexUrls), sha256: e.sha256, yanked: false, size: e.size, ...(requiresPython ? { requiresPython } : {}) },
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
