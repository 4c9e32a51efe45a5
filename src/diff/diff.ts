import type { LockEntry } from '../lock/entry.js';

/** An artifact as users name it: an image by name:tag, a deb by package, a wheel by project, a file by name. */
export interface NamedArtifact {
  kind: 'image' | 'deb' | 'wheel' | 'file' | 'manifest' | 'playbooks' | 'runtime';
  name: string;
  /** The image's digest, the deb's or wheel's version, a file's sha256. */
  version: string;
}

export interface ArtifactDiff {
  added: NamedArtifact[];
  removed: NamedArtifact[];
  changed: Array<{ kind: NamedArtifact['kind']; name: string; from: string; to: string }>;
}

/** PEP 503: a project's name, normalised. */
const project = (s: string) => s.toLowerCase().replace(/[-_.]+/g, '-');

/**
 * The artifacts of a lock as users name them. Layers are part of their image and apt's indexes of the mirror, so
 * neither is listed; a wheel built for several platforms is one project at one version; a deb is named by its
 * package, with `:arch` only when the lock (or `context`, both sides of a diff) holds it for more than one
 * architecture. Pure.
 */
export function namedArtifacts(artifacts: LockEntry[], context: LockEntry[] = artifacts): NamedArtifact[] {
  // Arches counted over both sides of a diff, so one deb is named the same on each.
  const debArches = new Map<string, Set<string>>();
  for (const a of context) {
    if (a.kind !== 'deb') continue;
    const pkg = String(a.extra?.['pkg'] ?? a.name);
    if (!debArches.has(pkg)) debArches.set(pkg, new Set());
    debArches.get(pkg)!.add(String(a.extra?.['arch'] ?? ''));
  }
  const out = new Map<string, NamedArtifact>();
  const add = (n: NamedArtifact) => out.set(`${n.kind}\0${n.name}\0${n.version}`, n);
  for (const a of artifacts) {
    switch (a.kind) {
      case 'image':
        add({ kind: 'image', name: a.name, version: String(a.extra?.['digest'] ?? `sha256:${a.sha256}`) });
        break;
      case 'deb': {
        const pkg = String(a.extra?.['pkg'] ?? a.name);
        const arch = String(a.extra?.['arch'] ?? '');
        add({ kind: 'deb', name: debArches.get(pkg)!.size > 1 ? `${pkg}:${arch}` : pkg, version: a.version ?? a.sha256 });
        break;
      }
      case 'wheel':
        add({ kind: 'wheel', name: project(String(a.extra?.['project'] ?? a.name.split('-')[0])), version: a.version ?? a.sha256 });
        break;
      case 'file':
      case 'manifest':
      case 'playbooks':
      case 'runtime':
        add({ kind: a.kind, name: a.name, version: a.sha256 });
        break;
      default:
        break;
    }
  }
  return [...out.values()];
}

const ORDER: NamedArtifact['kind'][] = ['image', 'deb', 'wheel', 'file', 'manifest', 'playbooks', 'runtime'];
const byKindName = (a: { kind: NamedArtifact['kind']; name: string }, b: { kind: NamedArtifact['kind']; name: string }) =>
  ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * What changed from `old` to `neu`, per kind. A name held at one version on each side that differs is one
 * `changed` entry (a moved image tag: its digests as from and to); a name at several versions on a side (two
 * versions of one project) is compared version by version, as added and removed. Pure.
 */
export function diffArtifacts(old: LockEntry[], neu: LockEntry[]): ArtifactDiff {
  const group = (list: NamedArtifact[]) => {
    const m = new Map<string, NamedArtifact[]>();
    for (const a of list) {
      const k = `${a.kind}\0${a.name}`;
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(a);
    }
    return m;
  };
  const a = group(namedArtifacts(old, [...old, ...neu]));
  const b = group(namedArtifacts(neu, [...old, ...neu]));
  const diff: ArtifactDiff = { added: [], removed: [], changed: [] };
  for (const [k, was] of a) {
    const now = b.get(k) ?? [];
    if (was.length === 1 && now.length === 1) {
      if (was[0]!.version !== now[0]!.version) diff.changed.push({ kind: was[0]!.kind, name: was[0]!.name, from: was[0]!.version, to: now[0]!.version });
      continue;
    }
    for (const x of was) if (!now.some((y) => y.version === x.version)) diff.removed.push(x);
    for (const y of now) if (!was.some((x) => x.version === y.version)) diff.added.push(y);
  }
  for (const [k, now] of b) if (!a.has(k)) diff.added.push(...now);
  diff.added.sort(byKindName);
  diff.removed.sort(byKindName);
  diff.changed.sort(byKindName);
  return diff;
}

/** One line per difference, grouped by kind: `+ deb ipset 7.17-1`, `~ image NAME FROM -> TO`. Pure. */
export function renderDiff(d: ArtifactDiff): string {
  const lines: string[] = [];
  for (const kind of ORDER) {
    for (const a of d.added.filter((x) => x.kind === kind)) lines.push(`+ ${kind} ${a.name} ${a.version}`);
    for (const a of d.removed.filter((x) => x.kind === kind)) lines.push(`- ${kind} ${a.name} ${a.version}`);
    for (const c of d.changed.filter((x) => x.kind === kind)) lines.push(`~ ${kind} ${c.name} ${c.from} -> ${c.to}`);
  }
  return lines.length ? lines.join('\n') + '\n' : 'no differences\n';
}
