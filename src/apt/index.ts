/**
 * The package universe of one target (os, arch): every version of every binary package of that arch or `all`,
 * from all its sources and suites, plus who provides what. Built from Packages texts; pure.
 */
import { iterateStanzas, type RawStanza, type Stanza } from './deb822.js';
import { parseRelations, type OrGroup, type Relation } from './relation.js';
import { compareVersions } from './version.js';

/**
 * One binary package version. Relation fields are kept as text and parsed on first use: a closure visits a few
 * hundred of the ~60k stanzas, so parsing them all up front would be most of the work and most of the memory.
 */
export class PackageRecord {
  /** Offsets of the stanza in the Packages text it came from, to copy it verbatim into the bundle's index. */
  start = 0;
  end = 0;
  private parsed?: Partial<Record<RelField, OrGroup[]>>;
  constructor(
    readonly name: string,
    readonly version: string,
    readonly arch: string,
    private readonly rawDepends: string | undefined,
    private readonly rawPreDepends: string | undefined,
    private readonly rawRecommends: string | undefined,
    private readonly rawBreaks: string | undefined,
    readonly provides: Relation[],
    readonly source: string,
    /** Which fetched index it came from (an opaque key the collector understands). */
    readonly origin: string,
    readonly multiArch?: string,
    readonly priority?: string,
    readonly essential = false,
  ) {}

  private rel(key: RelField, raw: string | undefined): OrGroup[] {
    const parsed = (this.parsed ??= {});
    return (parsed[key] ??= parseRelations(raw, this.arch === 'all' ? undefined : this.arch));
  }
  get depends(): OrGroup[] {
    return this.rel('depends', this.rawDepends);
  }
  get preDepends(): OrGroup[] {
    return this.rel('preDepends', this.rawPreDepends);
  }
  get recommends(): OrGroup[] {
    return this.rel('recommends', this.rawRecommends);
  }
  get breaks(): OrGroup[] {
    return this.rel('breaks', this.rawBreaks);
  }
}

type RelField = 'depends' | 'preDepends' | 'recommends' | 'breaks';

/** Fields the resolver and the repo writer need; the rest of the stanza is re-read from the index when writing. */
export const INDEX_FIELDS: ReadonlySet<string> = new Set([
  'Package', 'Version', 'Architecture', 'Multi-Arch', 'Depends', 'Pre-Depends', 'Recommends', 'Breaks', 'Provides',
  'Priority', 'Essential', 'Source',
]);

/** Upstream location and digest of a record: read from its stanza only for the few packages a closure selects. */
export interface PackageFile {
  filename: string;
  size: number;
  sha256: string;
}

export function fileOfStanza(f: Stanza): PackageFile {
  return { filename: f['Filename'] ?? '', size: Number(f['Size'] ?? 0), sha256: f['SHA256'] ?? '' };
}

// A few values repeat 60k times (Priority, Multi-Arch, Architecture, Source): one string each.
const interned = new Map<string, string>();
function intern(s: string): string {
  const had = interned.get(s);
  if (had !== undefined) return had;
  if (interned.size < 100_000) interned.set(s, s);
  return s;
}

export interface Provider {
  pkg: PackageRecord;
  /** The provided version; undefined for an unversioned Provides. */
  version?: string;
}

export class PackageIndex {
  /** Real packages by name, newest version first after `finish()`. */
  readonly byName = new Map<string, PackageRecord[]>();
  readonly providers = new Map<string, Provider[]>();
  private finished = false;

  /**
   * `withRecommends` / `withBreaks`: keep those fields (only needed when Recommends are followed, and when the
   * baseline is a real status whose packages a Breaks can force to upgrade). Leaving them out saves memory.
   */
  constructor(
    readonly arch: string,
    opts: { withRecommends?: boolean; withBreaks?: boolean } = { withRecommends: true, withBreaks: true },
  ) {
    const keep = new Set(INDEX_FIELDS);
    if (!opts.withRecommends) keep.delete('Recommends');
    if (!opts.withBreaks) keep.delete('Breaks');
    this.keep = keep;
  }
  private readonly keep: ReadonlySet<string>;

  /** Add every stanza of a Packages file that is for this arch (or `all`); record offsets are byte offsets into `buf`. */
  addPackagesBytes(buf: Buffer, origin: string): number {
    return this.addStanzas(iterateStanzas(buf, this.keep), origin);
  }

  private addStanzas(stanzas: Iterable<RawStanza>, origin: string): number {
    let n = 0;
    for (const { fields, start, end } of stanzas) {
      const rec = recordFromStanza(fields, origin, this.arch);
      if (rec) {
        rec.start = start;
        rec.end = end;
        this.add(rec);
        n++;
      }
    }
    return n;
  }

  add(rec: PackageRecord): void {
    this.finished = false;
    const list = this.byName.get(rec.name);
    if (!list) this.byName.set(rec.name, [rec]); // exact-size arrays: most names have one version
    else {
      // The same version from two suites is one package; keep the first seen.
      for (const p of list) if (p.version === rec.version && p.arch === rec.arch) return;
      list.push(rec);
    }
    for (const p of rec.provides) {
      const provider = { pkg: rec, version: p.op === '=' ? p.version : undefined };
      const provs = this.providers.get(p.name);
      if (!provs) this.providers.set(p.name, [provider]);
      else provs.push(provider);
    }
  }

  finish(): this {
    if (this.finished) return this;
    for (const list of this.byName.values()) if (list.length > 1) list.sort((a, b) => compareVersions(b.version, a.version));
    this.finished = true;
    return this;
  }

  versions(name: string): PackageRecord[] {
    return this.byName.get(name) ?? [];
  }

  get size(): number {
    let n = 0;
    for (const l of this.byName.values()) n += l.length;
    return n;
  }
}

const NONE: Relation[] = [];

export function recordFromStanza(f: Stanza, origin: string, arch: string): PackageRecord | undefined {
  const name = f['Package'];
  const version = f['Version'];
  const pkgArch = f['Architecture'];
  if (!name || !version || !pkgArch) return undefined;
  if (pkgArch !== arch && pkgArch !== 'all') return undefined;
  const provides: Relation[] = f['Provides'] ? parseRelations(f['Provides'], arch).flat() : NONE;
  const src = f['Source'];
  return new PackageRecord(
    name,
    version,
    intern(pkgArch),
    f['Depends'],
    f['Pre-Depends'],
    f['Recommends'],
    f['Breaks'],
    provides,
    src ? intern(src.split(' ')[0]!) : name,
    origin,
    f['Multi-Arch'] === undefined ? undefined : intern(f['Multi-Arch']),
    f['Priority'] === undefined ? undefined : intern(f['Priority']),
    f['Essential'] === 'yes',
  );
}
