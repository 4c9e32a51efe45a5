/**
 * What a target already has, for the resolver: nothing, the required/essential set, or a real dpkg status file.
 */
import { parseDeb822 } from './deb822.js';
import type { PackageIndex } from './index.js';
import { parseRelations } from './relation.js';
import { resolveClosure, type Baseline } from './resolve.js';

/** Installed packages of a dpkg `status` file (Status: install ok installed, or hold/unpacked are not counted). */
export function baselineFromStatus(text: string, arch: string): Baseline {
  const out: Baseline = new Map();
  for (const f of parseDeb822(text)) {
    const status = (f['Status'] ?? '').split(/\s+/);
    if (status[2] !== 'installed') continue;
    const name = f['Package'];
    const version = f['Version'];
    if (!name || !version) continue;
    const pa = f['Architecture'];
    if (pa && pa !== arch && pa !== 'all') continue; // a foreign-arch package does not satisfy a native dependency
    const provides = parseRelations(f['Provides'], arch).flat();
    out.set(name, { version, provides, depends: [...parseRelations(f['Pre-Depends'], arch), ...parseRelations(f['Depends'], arch)] });
  }
  return out;
}

/**
 * `baseline: required`: every package of Priority required or Essential yes, and their closure, at the index's
 * newest versions (what debootstrap --variant=minbase installs, which any real target has).
 */
export function baselineRequired(index: PackageIndex): Baseline {
  index.finish();
  const roots: string[] = [];
  for (const [name, versions] of index.byName) {
    const newest = versions[0]!;
    if (newest.priority === 'required' || newest.essential) roots.push(name);
  }
  const { selected } = resolveClosure(index, roots);
  const out: Baseline = new Map();
  for (const { pkg } of selected) out.set(pkg.name, { version: pkg.version, provides: pkg.provides, depends: [...pkg.preDepends, ...pkg.depends] });
  return out;
}
