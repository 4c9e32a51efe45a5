/**
 * The package universe of one target (os, arch): every version of every binary package of that arch or `all`,
 * from all its sources and suites, plus who provides what. Built from Packages texts; pure.
 */
import { iterateStanzas, type Stanza } from './deb822.js';
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
  private parsed: Partial<Record<'depends' | 'preDepends' | 'recommends' | 'breaks', OrGroup[]>> = {};
  constructor(
    readonly name: string,
    readonly version: string,
    readonly arch: string,
    private readonly raw: { depends?: string; preDepends?: string; recommends?: string; breaks?: string },
    readonly provides: Relation[],
    readonly source: string,
    /** Upstream path relative to the archive root, its size and digest. */
    readonly filename: string,
    readonly size: number,
    readonly sha256: string,
    /** Which fetched index it came from (an opaque key the collector understands). */
    readonly origin: string,
    readonly multiArch?: string,
    readonly priority?: string,
    readonly essential = false,
  ) {}

  private rel(key: 'depends' | 'preDepends' | 'recommends' | 'breaks'): OrGroup[] {
    return (this.parsed[key] ??= parseRelations(this.raw[key], this.arch === 'all' ? undefined : this.arch));
  }
  get depends(): OrGroup[] {
    return this.rel('depends');
  }
  get preDepends(): OrGroup[] {
    return this.rel('preDepends');
  }
  get recommends(): OrGroup[] {
    return this.rel('recommends');
  }
  get breaks(): OrGroup[] {
    return this.rel('breaks');
  }
}

/** Fields the resolver and the repo writer need; the rest of the stanza is re-read from the index when writing. */
export const INDEX_FIELDS: ReadonlySet<string> = new Set([
  'Package', 'Version', 'Architecture', 'Multi-Arch', 'Depends', 'Pre-Depends', 'Recommends', 'Breaks', 'Provides',
  'Priority', 'Essential', 'Source', 'Filename', 'Size', 'SHA256', 'Status',
]);

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

  constructor(readonly arch: string) {}

  /** Add every stanza of a Packages text that is for this arch (or `all`). */
  addPackagesText(text: string, origin: string): number {
    let n = 0;
    for (const { fields, start, end } of iterateStanzas(text, INDEX_FIELDS)) {
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
    let list = this.byName.get(rec.name);
    if (!list) this.byName.set(rec.name, (list = []));
    // The same version from two suites is one package; keep the first seen.
    if (list.some((p) => p.version === rec.version && p.arch === rec.arch)) return;
    list.push(rec);
    for (const p of rec.provides) {
      let provs = this.providers.get(p.name);
      if (!provs) this.providers.set(p.name, (provs = []));
      provs.push({ pkg: rec, version: p.op === '=' ? p.version : undefined });
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

export function recordFromStanza(f: Stanza, origin: string, arch: string): PackageRecord | undefined {
  const name = f['Package'];
  const version = f['Version'];
  const pkgArch = f['Architecture'];
  if (!name || !version || !pkgArch) return undefined;
  if (pkgArch !== arch && pkgArch !== 'all') return undefined;
  const provides: Relation[] = [];
  if (f['Provides']) for (const g of parseRelations(f['Provides'], arch)) provides.push(...g);
  const src = f['Source'];
  return new PackageRecord(
    name,
    version,
    pkgArch,
    { depends: f['Depends'], preDepends: f['Pre-Depends'], recommends: f['Recommends'], breaks: f['Breaks'] },
    provides,
    src ? src.split(' ')[0]! : name,
    f['Filename'] ?? '',
    Number(f['Size'] ?? 0),
    f['SHA256'] ?? '',
    origin,
    f['Multi-Arch'],
    f['Priority'],
    f['Essential'] === 'yes',
  );
}
