import { isAbsolute, resolve } from 'node:path';
import type { Alternate, AptSource, AptSpec, Manifest, PinnedFile, PipSpec, PlaybooksSpec, RegistrySettings, RuntimeSpec, Target } from './types.js';
import { ARCHES, KNOWN_OS } from './targets.js';
import { Checker } from './checker.js';
import { checkAptSource, checkRegistry, type Upstreams } from './upstreams.js';
import { URL_OR_ENV, badDefaults, expandEnv, type BuildMachineArchives } from './env.js';
import { artifactNameClashes, artifactNameProblem } from './artifact-names.js';

const SHA256 = /^[0-9a-f]{64}$/;
const HTTP_URL = /^https?:\/\/\S+$/;
const NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;
const SPEC_KEYS = ['targets', 'runtime', 'registries', 'images', 'apt', 'pip', 'files', 'manifests', 'playbooks', 'alternates'] as const;

/**
 * Check a parsed manifest document and turn it into a Manifest. Every problem goes to the checker; the result is
 * only meaningful when the checker has none. Pure apart from path resolution against `baseDir`.
 */
export function validateManifest(
  c: Checker,
  doc: unknown,
  ctx: { file: string; sha256: string; baseDir: string; upstreams: Upstreams; buildMachine?: BuildMachineArchives },
): Manifest {
  const env: EnvContext = { c, machine: ctx.buildMachine };
  const root = c.object(doc, '', ['apiVersion', 'kind', 'metadata', 'spec'], ['apiVersion', 'kind', 'metadata', 'spec']) ?? {};
  c.string(root.apiVersion, 'apiVersion', { oneOf: ['ks-bundle/v1'] });
  c.string(root.kind, 'kind', { oneOf: ['BundleManifest'] });
  const meta = c.object(root.metadata ?? {}, 'metadata', ['name', 'version'], ['name', 'version']) ?? {};
  const name = c.string(meta.name, 'metadata.name', { pattern: NAME, patternHint: 'a lowercase name (a-z, 0-9, . _ -)' }) ?? 'bundle';
  const version = c.string(meta.version, 'metadata.version', { pattern: /^[A-Za-z0-9][A-Za-z0-9._+-]*$/, patternHint: 'a version like 1.2.3' }) ?? '0';
  const spec = c.object(root.spec ?? {}, 'spec', SPEC_KEYS, ['targets']) ?? {};

  const targets = readTargets(c, spec.targets, ctx.baseDir);
  const registries: Record<string, RegistrySettings> = Object.fromEntries(ctx.upstreams.registries);
  if (spec.registries !== undefined) {
    const regs = c.object(spec.registries, 'spec.registries', Object.keys(spec.registries ?? {})) ?? {};
    for (const [host, v] of Object.entries(regs)) {
      const s = checkRegistry(c, v, `spec.registries.${host}`, ctx.baseDir);
      if (s) registries[host] = s;
    }
  }
  return {
    file: ctx.file,
    sha256: ctx.sha256,
    name,
    version,
    targets,
    runtime: readRuntime(c, spec.runtime),
    registries,
    images: c.strings(spec.images, 'spec.images', { pattern: /^[^\s]+$/, patternHint: 'an image reference without spaces' }) ?? [],
    apt: spec.apt === undefined ? undefined : readApt(env, spec.apt, ctx.baseDir, ctx.upstreams),
    pip: spec.pip === undefined ? undefined : readPip(env, spec.pip, ctx.upstreams),
    files: readPinned(c, spec.files, 'spec.files'),
    manifests: readPinned(c, spec.manifests, 'spec.manifests'),
    playbooks: spec.playbooks === undefined ? undefined : readPlaybooks(c, spec.playbooks, ctx.baseDir),
    alternates: readAlternates(c, spec.alternates),
  };
}

/** `spec.alternates`: a URL prefix maps to URL prefixes, an image reference prefix to reference prefixes. */
function readAlternates(c: Checker, value: unknown): Alternate[] {
  const out: Alternate[] = [];
  (c.array(value, 'spec.alternates') ?? []).forEach((v, i) => {
    const p = `spec.alternates[${i}]`;
    const o = c.object(v, p, ['prefix', 'to'], ['prefix', 'to']);
    if (!o) return;
    const prefix = c.string(o.prefix, `${p}.prefix`, { pattern: /^\S+$/, patternHint: 'an image reference prefix or an http(s) URL prefix, without spaces' });
    const to = c.strings(o.to, `${p}.to`, { pattern: /^\S+$/, patternHint: 'a prefix without spaces' });
    if (!prefix || !to) return;
    if (to.length === 0) return c.report(`${p}.to`, 'needs at least one alternate prefix');
    const isUrl = (s: string) => HTTP_URL.test(s);
    to.forEach((t, j) => {
      if (isUrl(t) !== isUrl(prefix)) c.report(`${p}.to[${j}]`, isUrl(prefix) ? `"${t}" is not an http(s) URL prefix, as "${prefix}" is` : `"${t}" is a URL, but "${prefix}" is an image reference prefix`);
    });
    if (!isUrl(prefix) && !prefix.includes('/')) c.report(`${p}.prefix`, `"${prefix}" names no registry: an image prefix is a full one like docker.io/kubesphere/`);
    out.push({ prefix, to });
  });
  return out;
}

function readTargets(c: Checker, value: unknown, baseDir: string): Target[] {
  const list = c.array(value, 'spec.targets') ?? [];
  if (value !== undefined && list.length === 0) c.report('spec.targets', 'needs at least one target');
  const out: Target[] = [];
  const seen = new Set<string>();
  list.forEach((v, i) => {
    const p = `spec.targets[${i}]`;
    const o = c.object(v, p, ['os', 'arch', 'python', 'baseline'], ['os', 'arch']);
    if (!o) return;
    const os = c.string(o.os, `${p}.os`, { oneOf: Object.keys(KNOWN_OS) });
    const arch = c.string(o.arch, `${p}.arch`, { oneOf: ARCHES }) as Target['arch'] | undefined;
    const python = c.string(o.python, `${p}.python`, { pattern: /^3\.\d{1,2}$/, patternHint: 'a Python version like "3.11"' });
    const baseline = readBaseline(c, o.baseline, `${p}.baseline`, baseDir);
    if (!os || !arch) return;
    const key = `${os}/${arch}`;
    if (seen.has(key)) c.report(p, `target ${key} is listed twice`);
    seen.add(key);
    const facts = KNOWN_OS[os]!;
    out.push({ os, arch, python: python ?? facts.python, distro: facts.distro, codename: facts.codename, glibc: facts.glibc, baseline });
  });
  return out;
}

function readBaseline(c: Checker, value: unknown, path: string, baseDir: string): Target['baseline'] {
  if (value === undefined) return 'none';
  if (value === 'none' || value === 'required') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = c.object(value, path, ['status'], ['status']);
    const status = o && c.string(o.status, `${path}.status`);
    if (status) return { status: isAbsolute(status) ? status : resolve(baseDir, status) };
    return 'none';
  }
  c.report(path, 'expected none, required, or {status: <path of a dpkg status file>}');
  return 'none';
}

function readRuntime(c: Checker, value: unknown): RuntimeSpec {
  if (value === undefined) return { source: 'npm' };
  const o = c.object(value, 'spec.runtime', ['source', 'version', 'urls'], ['source']);
  if (!o) return { source: 'npm' };
  const source = (c.string(o.source, 'spec.runtime.source', { oneOf: ['npm', 'local', 'url'] }) ?? 'npm') as RuntimeSpec['source'];
  const version = c.string(o.version, 'spec.runtime.version', { pattern: /^\d+\.\d+\.\d+$/, patternHint: 'an exact Node.js version like 22.11.0' });
  let urls: RuntimeSpec['urls'];
  if (o.urls !== undefined) {
    const m = c.object(o.urls, 'spec.runtime.urls', ARCHES) ?? {};
    urls = {};
    for (const [arch, v] of Object.entries(m)) {
      const p = `spec.runtime.urls.${arch}`;
      const e = c.object(v, p, ['url', 'sha256'], ['url', 'sha256']);
      const url = e && c.string(e.url, `${p}.url`, { pattern: HTTP_URL, patternHint: 'an http(s) URL' });
      const sha256 = e && c.string(e.sha256, `${p}.sha256`, { pattern: SHA256, patternHint: 'a 64-digit lowercase hex sha256' });
      if (url && sha256) urls[arch] = { url, sha256 };
    }
  }
  if (source === 'url' && !urls) c.report('spec.runtime', 'source "url" needs "urls" with a {url, sha256} per target arch');
  return { source, version, urls };
}

function readApt(env: EnvContext, value: unknown, baseDir: string, upstreams: Upstreams): AptSpec | undefined {
  const { c } = env;
  const o = c.object(value, 'spec.apt', ['sources', 'packages', 'recommends', 'signingKey'], ['sources', 'packages']);
  if (!o) return undefined;
  const sources: AptSource[] = [];
  (c.array(o.sources, 'spec.apt.sources') ?? []).forEach((v, i) => {
    const p = `spec.apt.sources[${i}]`;
    const ref = typeof v === 'string' ? v : v && typeof v === 'object' && 'use' in v ? (v as any).use : undefined;
    if (ref !== undefined) {
      // `{use: NAME, url: URL}` keeps a shared source's suites, components and keyring with this manifest's archive.
      const own = typeof v === 'object' ? c.object(v, p, ['use', 'url'], ['use']) : undefined;
      const ownUrl = own && c.string(own.url, `${p}.url`, { pattern: URL_OR_ENV, patternHint: 'an http(s) URL (or ${VARIABLE}/path, ${VARIABLE:-https://default}/path)' });
      const shared = typeof ref === 'string' ? upstreams.apt.get(ref) : undefined;
      if (shared) {
        const url = ownUrl ? withEnv(env, `${p}.url`, ownUrl, `apt source "${ref}"`) : withEnv(env, p, shared.url, `apt upstream "${ref}"`);
        if (url) sources.push({ ...shared, url: url.endsWith('/') ? url : url + '/' });
      }
      else c.report(p, `no apt upstream named "${ref}" in repos/*.yaml${upstreams.apt.size ? ` (known: ${[...upstreams.apt.keys()].join(', ')})` : ''}`);
      return;
    }
    const src = checkAptSource(c, v, p, `source${i}`, baseDir);
    const url = src && withEnv(env, `${p}.url`, src.url, 'this source');
    if (src && url) sources.push({ ...src, url: url.endsWith('/') ? url : url + '/' });
  });
  return {
    sources,
    packages: c.strings(o.packages, 'spec.apt.packages', { pattern: /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?(=\S+)?$/, patternHint: 'a Debian package name (optionally :arch or =version)' }) ?? [],
    recommends: c.boolean(o.recommends, 'spec.apt.recommends') ?? false,
    signingKey: (() => {
      const k = c.string(o.signingKey, 'spec.apt.signingKey');
      return k ? (isAbsolute(k) ? k : resolve(baseDir, k)) : undefined;
    })(),
  };
}

function readPip(env: EnvContext, value: unknown, upstreams: Upstreams): PipSpec | undefined {
  const { c } = env;
  const o = c.object(value, 'spec.pip', ['index', 'requirements', 'buildSdists'], ['index', 'requirements']);
  if (!o) return undefined;
  let index = c.string(o.index, 'spec.pip.index');
  if (index && !URL_OR_ENV.test(index)) {
    const shared = upstreams.pip.get(index);
    if (!shared) c.report('spec.pip.index', `"${index}" is neither an http(s) URL nor a pip upstream in repos/*.yaml`);
    index = shared && withEnv(env, 'spec.pip.index', shared, `pip upstream "${index}"`);
  } else if (index) index = withEnv(env, 'spec.pip.index', index, 'the pip index');
  // Known, so that it is refused with a reason rather than as an unknown key: wheels are never built on this machine.
  if (o.buildSdists !== undefined) {
    c.report(
      'spec.pip.buildSdists',
      'building wheels from source distributions is not supported: a bundle holds only wheels the index publishes, each checked against its sha256; ' +
        'for a project with only an sdist, build its wheel yourself and serve it from your own index, or pin a version that has a wheel',
    );
  }
  return {
    index: index ?? '',
    requirements: c.strings(o.requirements, 'spec.pip.requirements') ?? [],
  };
}

function readPinned(c: Checker, value: unknown, path: string): PinnedFile[] {
  const out: PinnedFile[] = [];
  const at: string[] = [];
  (c.array(value, path) ?? []).forEach((v, i) => {
    const p = `${path}[${i}]`;
    const o = c.object(v, p, ['url', 'sha256', 'name'], ['url', 'sha256']);
    if (!o) return;
    const url = c.string(o.url, `${p}.url`, { pattern: HTTP_URL, patternHint: 'an http(s) URL' });
    const sha256 = c.string(o.sha256, `${p}.sha256`, { pattern: SHA256, patternHint: 'a 64-digit lowercase hex sha256' });
    const given = c.string(o.name, `${p}.name`);
    if (o.name !== undefined && !given) return;
    if (!url || !sha256) return;
    const name = given ?? fileNameOf(url);
    const problem = artifactNameProblem(name);
    if (problem) {
      c.report(given ? `${p}.name` : p, given ? `"${name}" ${problem}` : `the URL's file name "${name}" ${problem}; give "name"`);
      return;
    }
    out.push({ url, sha256, name });
    at.push(given ? `${p}.name` : p);
  });
  for (const [first, second] of artifactNameClashes(out.map((f) => f.name))) {
    const [a, b] = [out[first]!.name, out[second]!.name];
    const why = a === b ? `name "${b}" is already used by` : b.startsWith(a + '/') ? `name "${b}" would be inside "${a}", the file of` : `name "${b}" would be the folder of "${a}", the file of`;
    c.report(at[second]!, `${why} ${at[first]!.replace(/\.name$/, '')} (line ${c.lineOf(at[first]!)}); one name is one path under the bundle's folder for this kind`);
  }
  return out;
}

/** The last segment of a URL's path, decoded: what `name` defaults to. */
function fileNameOf(url: string): string {
  const last = new URL(url).pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

function readPlaybooks(c: Checker, value: unknown, baseDir: string): PlaybooksSpec | undefined {
  const o = c.object(value, 'spec.playbooks', ['url', 'path', 'sha256', 'entry'], ['entry']);
  if (!o) return undefined;
  const url = c.string(o.url, 'spec.playbooks.url', { pattern: HTTP_URL, patternHint: 'an http(s) URL' });
  const path = c.string(o.path, 'spec.playbooks.path');
  const sha256 = c.string(o.sha256, 'spec.playbooks.sha256', { pattern: SHA256, patternHint: 'a 64-digit lowercase hex sha256' });
  const entry = c.string(o.entry, 'spec.playbooks.entry', { pattern: /^[^/.][^\s]*$/, patternHint: 'a playbook path relative to the playbooks folder' });
  if ((url ? 1 : 0) + (path ? 1 : 0) !== 1) c.report('spec.playbooks', 'give exactly one of "url" (a .tar.gz archive) or "path" (a local folder)');
  if (url && !sha256) c.report('spec.playbooks', '"url" needs "sha256": every byte is checked against a pinned digest');
  if (!entry) return undefined;
  return { url, path: path ? (isAbsolute(path) ? path : resolve(baseDir, path)) : undefined, sha256, entry };
}

interface EnvContext {
  c: Checker;
  machine?: BuildMachineArchives;
}

/**
 * Fill `${VAR}`s from the environment, or their defaults; a variable with neither is a problem at the place that
 * uses it, naming that one variable (and why its default did not apply).
 */
function withEnv({ c, machine }: EnvContext, path: string, value: string, what: string): string | undefined {
  const bad = badDefaults(value);
  if (bad.length) {
    for (const b of bad) c.report(path, `${what}: ${b}`);
    return undefined;
  }
  const { value: out, missing } = expandEnv(value, process.env, machine);
  if (missing.length) {
    for (const m of missing) {
      c.report(
        path,
        m.why
          ? `${what} needs the environment variable ${m.name}: its default (in ${value}) is the archive this machine's own apt uses, and ${m.why}; set ${m.name} to your mirror, e.g. ${m.name}=http://mirror.example.internal/…`
          : `${what} needs the environment variable ${m.name} (its URL is ${value}, with no default); set it to your mirror, e.g. ${m.name}=http://mirror.example.internal/…`,
      );
    }
    return undefined;
  }
  if (!HTTP_URL.test(out)) {
    c.report(path, `${what}: "${out}" is not an http(s) URL`);
    return undefined;
  }
  return out;
}
