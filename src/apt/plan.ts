/**
 * What one target needs from the upstream archives: fetch and verify its indexes, resolve the closure against
 * its baseline, and copy the chosen stanzas. The index (hundreds of MB of objects) lives only inside this call.
 */
import { open, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { InputError, IntegrityError, redactUrl } from '../errors.js';
import type { LockEntry } from '../lock/entry.js';
import type { Alternate, AptSource, AptSpec, Target } from '../manifest/types.js';
import { chooseArchive, suiteUnavailable, type ArchiveChoices } from './archives.js';
import { UnavailableError } from '../collector/run.js';
import { baselineFromStatus, baselineRequired } from './baseline.js';
import { fileOfStanza, PackageIndex } from './index.js';
import { iterateStanzas } from './deb822.js';
import { poolPath, rewriteFilename, type RepoPackage } from './repo.js';
import { resolveClosure, type Baseline } from './resolve.js';
import { archiveRoot, fetchPackages, type UpstreamOptions } from './upstream.js';

export interface PlannedDeb extends Omit<RepoPackage, 'file'> {
  /** Where it is fetched: the archive whose Release answered for its suite. */
  url: string;
  /** Its path under the archive root (the upstream `Filename`), to find it on another archive. */
  upstream?: string;
  /** Lock name of the index it came from. */
  index: string;
  chain: string[];
}

export interface TargetPlan {
  target: Target;
  debs: PlannedDeb[];
  /** Newest Date of the upstream Releases used: the repo's fixed Date. */
  date: Date;
  indexLock: LockEntry[];
  alreadyInstalled: string[];
}

/** pool/main/<x>/<source>/<file>.deb with Debian's name characters only: nothing an upstream writes can escape. */
const SAFE_POOL = /^pool\/main\/[a-z0-9][a-z0-9+.-]*\/[a-z0-9][a-z0-9+.-]*\/[A-Za-z0-9][A-Za-z0-9+.~_%:-]*\.u?deb$/;

export function sourcesFor(spec: AptSpec, os: string): AptSource[] {
  return spec.sources.filter((s) => !s.for || s.for.includes(os));
}

export function indexLockName(source: AptSource, suite: string, component: string, arch: string): string {
  return `${source.name}/${suite}/${component}/binary-${arch}/Packages`;
}

export async function loadBaseline(target: Target, manifestFile: string, index: PackageIndex): Promise<Baseline> {
  const b = target.baseline;
  if (b === 'none' || b === undefined) return new Map();
  if (b === 'required') return baselineRequired(index);
  const path = isAbsolute(b.status) ? b.status : resolvePath(dirname(manifestFile), b.status);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`target ${target.os}/${target.arch}: cannot read baseline status ${path}: ${(err as Error).message}`);
  }
  return baselineFromStatus(text, target.arch);
}

export async function planTarget(
  target: Target,
  spec: AptSpec,
  manifestFile: string,
  releases: ArchiveChoices,
  opts: UpstreamOptions,
  alternates: readonly Alternate[] = [],
): Promise<TargetPlan> {
  const sources = sourcesFor(spec, target.os);
  if (!sources.length) throw new InputError(`no apt source for target ${target.os}`, { hint: 'Add one to spec.apt.sources (or widen an existing source\'s `for`).' });
  const index = new PackageIndex(target.arch, { withRecommends: spec.recommends, withBreaks: typeof target.baseline === 'object' });
  const texts = new Map<string, { path: string; url: string }>();
  const indexLock: LockEntry[] = [];
  let date = new Date(0);
  for (const source of sources) {
    for (const suite of source.suites) {
      const choice = await chooseArchive(releases, source, suite, alternates, opts);
      const rel = choice.rel;
      if (!rel) throw new UnavailableError([suiteUnavailable(choice)]);
      if (rel.release.date && rel.release.date > date) date = rel.release.date;
      for (const component of source.components) {
        const got = await fetchPackages(rel, component, target.arch, opts);
        if (!got) continue; // a suite need not carry every component
        const name = indexLockName(source, suite, component, target.arch);
        // Bytes, not a string of the whole file: records get small strings of their own (see iterateStanzas),
        // and the file's bytes can go once it is indexed; chosen stanzas are read back by offset.
        index.addPackagesBytes(await readFile(got.blob.path), name);
        texts.set(name, { path: got.blob.path, url: archiveRoot(rel.source) });
        indexLock.push({
          kind: 'index',
          name,
          source: redactUrl(got.url),
          size: got.blob.size,
          sha256: got.blob.sha256,
          extra: { compressed: got.compressed, date: rel.release.date?.toISOString(), release: rel.stored.sha256 },
        });
      }
    }
  }
  if (index.size === 0) throw new InputError(`target ${target.os}/${target.arch}: the apt sources offer no packages for ${target.arch}`);
  const baseline = await loadBaseline(target, manifestFile, index);
  const result = resolveClosure(index, spec.packages, { recommends: spec.recommends, baseline });
  const debs: PlannedDeb[] = [];
  const handles = new Map<string, Awaited<ReturnType<typeof open>>>();
  try {
    for (const { pkg, chain } of result.selected) {
      const inst = baseline.get(pkg.name);
      if (inst && inst.version === pkg.version) continue; // the target has exactly this already
      const t = texts.get(pkg.origin)!;
      let fh = handles.get(t.path);
      if (!fh) handles.set(t.path, (fh = await open(t.path, 'r')));
      const raw = Buffer.alloc(pkg.end - pkg.start);
      await fh.read(raw, 0, raw.length, pkg.start);
      const file = fileOfStanza(iterateStanzas(raw).next().value!.fields);
      if (!/^[0-9a-f]{64}$/.test(file.sha256) || !file.filename) {
        throw new IntegrityError(`${pkg.origin}: ${pkg.name} ${pkg.version} has no SHA256 or Filename in the index`, { hint: 'Only packages whose digest the signed index gives can enter a bundle.' });
      }
      const pool = poolPath(pkg.source, file.filename);
      if (!SAFE_POOL.test(pool)) throw new IntegrityError(`${pkg.origin}: ${pkg.name}: unusable file name ${JSON.stringify(file.filename)}`);
      debs.push({
        name: pkg.name,
        version: pkg.version,
        arch: pkg.arch,
        stanza: rewriteFilename(raw.toString('utf8'), pool),
        pool,
        sha256: file.sha256,
        size: file.size,
        url: t.url + file.filename,
        upstream: file.filename,
        index: pkg.origin,
        chain,
      });
    }
  } finally {
    for (const fh of handles.values()) await fh.close();
  }
  return { target, debs, date, indexLock, alreadyInstalled: result.alreadyInstalled };
}
