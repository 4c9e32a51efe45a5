/**
 * The apt kind in the lock: one `deb` entry per deb and target (its stanza, pool path, the archive it was fetched
 * from) and one `index` entry per upstream Packages index. With `--locked` the repos are rebuilt from these alone.
 */
import { KsBundleError, redactUrl, withCredentialsOf } from '../errors.js';
import type { LockEntry } from '../lock/entry.js';
import type { AptSpec, Target } from '../manifest/types.js';
import type { PlannedDeb } from './plan.js';
import { parseRequest } from './resolve.js';

/** One OS's repo as planned: its fixed date and, per architecture, the debs of its closure. */
export interface OsRepo {
  os: string;
  codename: string;
  date: Date;
  byArch: Map<string, PlannedDeb[]>;
}

export function debLock(r: OsRepo, arch: string, d: PlannedDeb, fetchedFrom: string): LockEntry {
  return {
    kind: 'deb',
    name: `${r.os}/${arch}/${d.name}=${d.version}:${d.arch}`,
    version: d.version,
    source: redactUrl(fetchedFrom),
    size: d.size,
    sha256: d.sha256,
    extra: {
      pkg: d.name,
      arch: d.arch,
      os: r.os,
      targetArch: arch,
      filename: d.pool,
      ...(d.upstream ? { upstream: d.upstream } : {}),
      index: d.index,
      repoDate: r.date.toISOString(),
      stanza: d.stanza,
    },
  };
}

/** A locked deb as a download; its URL gets the credentials of the manifest's archives back (the lock holds none). */
export function debFromLock(l: LockEntry, archiveUrls: string[]): PlannedDeb {
  const x = l.extra ?? {};
  if (typeof x['stanza'] !== 'string' || typeof x['filename'] !== 'string') {
    throw new KsBundleError('INVALID_INPUT', `lock entry deb ${l.name} lacks its stanza or filename`, { hint: 'Rebuild without --locked to regenerate the lock.' });
  }
  return {
    name: String(x['pkg']),
    version: l.version ?? '',
    arch: String(x['arch']),
    stanza: x['stanza'],
    pool: x['filename'],
    sha256: l.sha256,
    size: l.size,
    url: withCredentialsOf(l.source, archiveUrls),
    ...(typeof x['upstream'] === 'string' ? { upstream: x['upstream'] } : {}),
    index: String(x['index'] ?? ''),
    chain: [],
  };
}

/** The repos exactly as the lock has them; the lock must still hold every package the manifest asks for. */
export function reposFromLock(locked: LockEntry[], spec: AptSpec, targets: Target[], archiveUrls: string[]): Map<string, OsRepo> {
  const repos = new Map<string, OsRepo>();
  for (const t of targets) {
    const debs = locked.filter((l) => l.kind === 'deb' && l.extra?.['os'] === t.os && l.extra?.['targetArch'] === t.arch).map((l) => debFromLock(l, archiveUrls));
    if (!debs.length) throw new KsBundleError('RESOLVE', `--locked: the lock has no debs for target ${t.os}/${t.arch}`, { hint: 'Build without --locked to resolve this target, then commit the new lock.' });
    // The manifest may have gained packages since the lock was written (a status baseline may legitimately
    // leave a requested package out: the target already has it).
    if (typeof t.baseline !== 'object') {
      const have = new Set(debs.map((d) => d.name));
      const missing = spec.packages.map((p) => parseRequest(p).name).filter((n) => !have.has(n));
      if (missing.length) {
        throw new KsBundleError('RESOLVE', `--locked: the lock has no ${missing.join(', ')} for target ${t.os}/${t.arch}, which the manifest asks for`, {
          hint: 'The manifest changed since the lock was written: build without --locked, then commit the new lock.',
        });
      }
    }
    let r = repos.get(t.os);
    if (!r) repos.set(t.os, (r = { os: t.os, codename: t.codename, date: new Date(0), byArch: new Map() }));
    r.byArch.set(t.arch, debs);
    const d = locked.find((l) => l.kind === 'deb' && l.extra?.['os'] === t.os)?.extra?.['repoDate'];
    if (typeof d === 'string') r.date = new Date(d);
  }
  return repos;
}
