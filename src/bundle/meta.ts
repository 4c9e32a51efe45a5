import yaml from 'js-yaml';
import type { Problem } from '../errors.js';
import { Checker } from '../manifest/checker.js';
import { parseYamlWithPositions } from '../manifest/yaml-positions.js';
import { loadYamlLimited, YamlLimitError } from '../util/yaml.js';
import { pathComponentProblem, quoteName, relativePathProblem } from '../util/path-name.js';
import { BUNDLE_YAML, FORMAT_VERSION } from './layout.js';

export interface BundleTarget {
  os: string;
  arch: string;
  python: string;
  codename: string;
}

/** Artifact kinds counted in bundle.yaml (the lock's kinds). */
export type CountedKind = 'runtime' | 'file' | 'manifest' | 'playbooks' | 'image' | 'blob' | 'deb' | 'wheel';

/**
 * bundle.yaml: what a bundle is and what was decided when it was built, so nothing at install time re-derives it.
 * Written by the build (assemble), read through parseBundleMeta only.
 */
export interface BundleMeta {
  apiVersion: 'ks-bundle/v1';
  kind: 'Bundle';
  formatVersion: number;
  /** Both are path components: the bundle's top folder and its unpack folder are `<name>-<version>`. */
  name: string;
  version: string;
  /** The manifest it was built from (file name only) and the manifest's sha256. */
  manifest: { file: string; sha256: string };
  targets: BundleTarget[];
  counts: Record<string, number>;
  bytes: Record<string, number>;
  /** What InitInstaller puts on the taskbox from the mirror, and the playbook the install runs. */
  installer: { apt: string[]; pip: string[]; playbook?: string };
  /** The apt repos the bundle serves under repos/apt/<os>/, with their suite (`dists/<suite>/`). */
  aptRepos: Record<string, string>;
  /** Registry hosts the bundle holds images of: every node's containerd gets a hosts.toml for each. */
  registries: string[];
  /** Present when the playbooks are kubespray: its release and the settings the bundle's downloads were chosen for. */
  kubespray?: { version: string; settings: Record<string, string | boolean> };
  /** Present when the bundle holds KubeSphere's installer image: the KubeSphere release. */
  kubesphere?: { version: string };
  /**
   * A delta bundle's base: the bundle it was built against (its root digest, the sha256 of its SHA256SUMS). The
   * delta's SHA256SUMS lists every file of the full bundle; those it does not carry come from the base, by sha256.
   */
  base?: BundleBase;
  /** sha256 of SHA256SUMS: bundle.yaml vouches for SHA256SUMS, which vouches for every other file. */
  sha256sums: string;
}

export interface BundleBase {
  name: string;
  version: string;
  sha256sums: string;
}

export interface ParsedMeta {
  /** Set only when there is no problem. */
  meta?: BundleMeta;
  /** The format version the text declares, whatever else is wrong with it. */
  formatVersion?: number;
  problems: Problem[];
}

const KEYS = [
  'apiVersion', 'kind', 'formatVersion', 'name', 'version', 'manifest', 'targets', 'counts', 'bytes', 'installer',
  'aptRepos', 'registries', 'kubespray', 'kubesphere', 'base', 'sha256sums',
] as const;
const REQUIRED = KEYS.filter((k) => k !== 'kubespray' && k !== 'kubesphere' && k !== 'base');
const SHA256 = /^[0-9a-f]{64}$/;

/** bundle.yaml's text, as the writer puts it in the bundle. */
export function renderBundleMeta(meta: BundleMeta): string {
  return yaml.dump(meta, { lineWidth: 120, noRefs: true });
}

/**
 * Parse and check bundle.yaml. Pure. `file` names it in problems (`bundle.tar:bundle.yaml`). A text of another
 * format version is reported as that alone: its other keys mean what that version says.
 */
export function parseBundleMeta(text: string, file: string = BUNDLE_YAML): ParsedMeta {
  let value: unknown;
  try {
    value = loadYamlLimited(text, { filename: file, limits: { maxBytes: 1 << 20, maxNodes: 20_000, maxDepth: 8 } });
  } catch (err) {
    const e = err as YamlLimitError;
    return { problems: [{ file, line: e.line ?? 1, column: e.column ?? 1, path: '', message: e.message }] };
  }
  const c = new Checker(file, parseYamlWithPositions(text, file).positions);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    c.report('', 'expected a mapping');
    return { problems: c.problems };
  }
  const declared = (value as Record<string, unknown>).formatVersion;
  const formatVersion = typeof declared === 'number' ? declared : undefined;
  if (formatVersion !== FORMAT_VERSION) {
    const what = formatVersion === undefined ? 'no format version' : `format version ${formatVersion}`;
    c.report('formatVersion', `${what}; this ks-bundle reads format version ${FORMAT_VERSION}`);
    return { formatVersion, problems: c.problems };
  }
  const root = c.object(value, '', KEYS, REQUIRED)!;
  c.string(root.apiVersion, 'apiVersion', { oneOf: ['ks-bundle/v1'] });
  c.string(root.kind, 'kind', { oneOf: ['Bundle'] });
  const name = component(c, root.name, 'name');
  const version = component(c, root.version, 'version');
  const manifest = c.object(root.manifest, 'manifest', ['file', 'sha256'], ['file', 'sha256']);
  const targets = (c.array(root.targets, 'targets') ?? []).map((t, i) => target(c, t, `targets[${i}]`));
  const installer = c.object(root.installer, 'installer', ['apt', 'pip', 'playbook'], ['apt', 'pip']);
  const playbook = installer?.playbook === undefined ? undefined : relative(c, installer.playbook, 'installer.playbook');
  const aptRepos: Record<string, string> = {};
  const repos = root.aptRepos === undefined ? undefined : c.object(root.aptRepos, 'aptRepos', Object.keys(root.aptRepos ?? {}));
  for (const [os, suite] of Object.entries(repos ?? {})) {
    const o = component(c, os, `aptRepos.${os}`);
    const s = component(c, suite, `aptRepos.${os}`);
    if (o && s) aptRepos[o] = s;
  }
  const registries = (c.array(root.registries, 'registries') ?? []).map((r, i) => component(c, r, `registries[${i}]`) ?? '');
  const kubespray = root.kubespray === undefined ? undefined : kubesprayOf(c, root.kubespray);
  const kubesphere = root.kubesphere === undefined ? undefined : c.object(root.kubesphere, 'kubesphere', ['version'], ['version']);
  const baseObj = root.base === undefined ? undefined : c.object(root.base, 'base', ['name', 'version', 'sha256sums'], ['name', 'version', 'sha256sums']);
  const base = baseObj && {
    name: component(c, baseObj.name, 'base.name') ?? '',
    version: component(c, baseObj.version, 'base.version') ?? '',
    sha256sums: c.string(baseObj.sha256sums, 'base.sha256sums', { pattern: SHA256, patternHint: 'a sha256' }) ?? '',
  };
  const meta: BundleMeta = {
    apiVersion: 'ks-bundle/v1',
    kind: 'Bundle',
    formatVersion,
    name: name ?? '',
    version: version ?? '',
    manifest: { file: c.string(manifest?.file, 'manifest.file') ?? '', sha256: c.string(manifest?.sha256, 'manifest.sha256', { pattern: SHA256, patternHint: 'a sha256' }) ?? '' },
    targets: targets.filter((t): t is BundleTarget => t !== undefined),
    counts: numbers(c, root.counts, 'counts'),
    bytes: numbers(c, root.bytes, 'bytes'),
    installer: { apt: c.strings(installer?.apt, 'installer.apt') ?? [], pip: c.strings(installer?.pip, 'installer.pip') ?? [], ...(playbook ? { playbook } : {}) },
    aptRepos,
    registries,
    ...(kubespray ? { kubespray } : {}),
    ...(kubesphere ? { kubesphere: { version: c.string(kubesphere.version, 'kubesphere.version') ?? '' } } : {}),
    ...(base ? { base } : {}),
    sha256sums: c.string(root.sha256sums, 'sha256sums', { pattern: SHA256, patternHint: 'a sha256' }) ?? '',
  };
  return c.problems.length ? { formatVersion, problems: c.problems } : { meta, formatVersion, problems: [] };
}

/** A name that becomes a path component; strings only (an unquoted 1.10 would have become 1.1 long before here). */
function component(c: Checker, value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined; // reported as a missing key
  if (typeof value !== 'string') {
    c.report(path, `expected a string, got ${typeof value} ${JSON.stringify(value)}`);
    return undefined;
  }
  const problem = pathComponentProblem(value);
  if (problem) {
    c.report(path, `${quoteName(value)} ${problem}: it becomes a folder or file name`);
    return undefined;
  }
  return value;
}

function relative(c: Checker, value: unknown, path: string): string | undefined {
  const s = c.string(value, path);
  if (s === undefined) return undefined;
  const problem = relativePathProblem(s);
  if (problem) {
    c.report(path, `${quoteName(s)} ${problem}: it must be a path inside the bundle`);
    return undefined;
  }
  return s;
}

function target(c: Checker, value: unknown, path: string): BundleTarget | undefined {
  const t = c.object(value, path, ['os', 'arch', 'python', 'codename'], ['os', 'arch', 'python', 'codename']);
  if (!t) return undefined;
  const os = component(c, t.os, `${path}.os`);
  const arch = component(c, t.arch, `${path}.arch`);
  const python = c.string(t.python, `${path}.python`);
  const codename = component(c, t.codename, `${path}.codename`);
  return os && arch && python && codename ? { os, arch, python, codename } : undefined;
}

function numbers(c: Checker, value: unknown, path: string): Record<string, number> {
  const obj = c.object(value, path, Object.keys((value as object | null) ?? {}));
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) out[k] = v;
    else c.report(`${path}.${k}`, `expected a whole number, got ${JSON.stringify(v)}`);
  }
  return out;
}

function kubesprayOf(c: Checker, value: unknown): BundleMeta['kubespray'] {
  const k = c.object(value, 'kubespray', ['version', 'settings'], ['version', 'settings']);
  if (!k) return undefined;
  const version = c.string(k.version, 'kubespray.version');
  const raw = c.object(k.settings, 'kubespray.settings', Object.keys((k.settings as object | null) ?? {}));
  const settings: Record<string, string | boolean> = {};
  for (const [name, v] of Object.entries(raw ?? {})) {
    if (typeof v === 'string' || typeof v === 'boolean') settings[name] = v;
    else c.report(`kubespray.settings.${name}`, `expected a string or true/false, got ${JSON.stringify(v)}`);
  }
  return version === undefined ? undefined : { version, settings };
}
