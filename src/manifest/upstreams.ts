import { readFile, readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import type { AptSource, RegistrySettings } from './types.js';
import { Checker } from './checker.js';
import { parseYamlWithPositions } from './yaml-positions.js';
import { URL_OR_ENV, badDefaults } from './env.js';
import { readCaFile } from '../net/tls.js';

/** Shared upstream definitions from `repos/*.yaml`, by name. */
export interface Upstreams {
  apt: Map<string, AptSource>;
  pip: Map<string, string>;
  registries: Map<string, RegistrySettings>;
}

const APT_KEYS = ['url', 'suites', 'components', 'keyring', 'trusted', 'for'] as const;

export function emptyUpstreams(): Upstreams {
  return { apt: new Map(), pip: new Map(), registries: new Map() };
}

/** Validate one apt source mapping (shared by repos files and inline manifest sources). */
export function checkAptSource(c: Checker, value: unknown, path: string, name: string, baseDir: string): AptSource | undefined {
  const o = c.object(value, path, [...APT_KEYS, 'name'], ['url', 'suites', 'components']);
  if (!o) return undefined;
  const url = c.string(o.url, `${path}.url`, { pattern: URL_OR_ENV, patternHint: 'an http(s) URL (or ${VARIABLE}/path, ${VARIABLE:-https://default}/path)' });
  const suites = c.strings(o.suites, `${path}.suites`);
  const components = c.strings(o.components, `${path}.components`);
  const keyring = c.string(o.keyring, `${path}.keyring`);
  const trusted = c.boolean(o.trusted, `${path}.trusted`);
  const forOs = c.strings(o.for, `${path}.for`);
  if (!keyring && !trusted) c.report(path, 'needs a "keyring" to verify its Release signature, or "trusted: true" to skip that check');
  if (!url || !suites?.length || !components?.length) return undefined;
  return {
    name: (typeof o.name === 'string' && o.name) || name,
    url: url.endsWith('/') || url.endsWith('}') ? url : url + '/',
    suites,
    components,
    keyring: keyring ? (isAbsolute(keyring) ? keyring : resolve(baseDir, keyring)) : undefined,
    trusted: trusted ?? false,
    for: forOs,
  };
}

/** Read every `*.yaml` in a repos folder. Problems are collected, not thrown. */
export async function loadUpstreams(dir: string | undefined, problems: Problem[]): Promise<Upstreams> {
  const out = emptyUpstreams();
  if (!dir) return out;
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    const file = join(dir, n);
    const text = await readFile(file, 'utf8');
    let parsed;
    try {
      parsed = parseYamlWithPositions(text, file);
    } catch (err: any) {
      problems.push({ file, line: err.line ?? 1, column: err.column ?? 1, path: '', message: err.message });
      continue;
    }
    const c = new Checker(file, parsed.positions);
    const doc = c.object(parsed.value, '', ['apiVersion', 'kind', 'spec'], ['apiVersion', 'kind', 'spec']);
    if (doc) {
      c.string(doc.apiVersion, 'apiVersion', { oneOf: ['ks-bundle/v1'] });
      c.string(doc.kind, 'kind', { oneOf: ['Upstreams'] });
      const spec = c.object(doc.spec, 'spec', ['apt', 'pip', 'registries']);
      if (spec) readSpec(c, spec, dirname(file), out);
    }
    await c.settle();
    problems.push(...c.problems);
  }
  return out;
}

function readSpec(c: Checker, spec: Record<string, unknown>, baseDir: string, out: Upstreams): void {
  if (spec.apt !== undefined) {
    const apt = c.object(spec.apt, 'spec.apt', Object.keys(spec.apt ?? {}));
    for (const [name, v] of Object.entries(apt ?? {})) {
      const src = checkAptSource(c, v, `spec.apt.${name}`, name, baseDir);
      // Reported here as well as where a manifest uses it: a shared file's typo is its own line's to fix.
      for (const b of src ? badDefaults(src.url) : []) c.report(`spec.apt.${name}.url`, b);
      if (src) out.apt.set(name, src);
    }
  }
  if (spec.pip !== undefined) {
    const pip = c.object(spec.pip, 'spec.pip', Object.keys(spec.pip ?? {}));
    for (const [name, v] of Object.entries(pip ?? {})) {
      const o = c.object(v, `spec.pip.${name}`, ['index'], ['index']);
      const index = o && c.string(o.index, `spec.pip.${name}.index`, { pattern: URL_OR_ENV, patternHint: 'an http(s) URL (or ${VARIABLE}/path, ${VARIABLE:-https://default}/path)' });
      for (const b of index ? badDefaults(index) : []) c.report(`spec.pip.${name}.index`, b);
      if (index) out.pip.set(name, index);
    }
  }
  if (spec.registries !== undefined) {
    const regs = c.object(spec.registries, 'spec.registries', Object.keys(spec.registries ?? {}));
    for (const [host, v] of Object.entries(regs ?? {})) {
      const s = checkRegistry(c, v, `spec.registries.${host}`, baseDir);
      if (s) out.registries.set(host, s);
    }
  }
}

export function checkRegistry(c: Checker, value: unknown, path: string, baseDir: string): RegistrySettings | undefined {
  const o = c.object(value ?? {}, path, ['insecure', 'ca', 'endpoint']);
  if (!o) return undefined;
  const ca = c.string(o.ca, `${path}.ca`);
  const caFile = ca ? resolve(baseDir, ca) : undefined;
  if (caFile) c.later(() => readCaFile(caFile).then(() => {}, (err: Error) => c.report(`${path}.ca`, err.message)));
  const endpoint = c.string(o.endpoint, `${path}.endpoint`, { pattern: /^[A-Za-z0-9.-]+(:\d+)?$/, patternHint: 'a host[:port]' });
  return { insecure: c.boolean(o.insecure, `${path}.insecure`), ca: caFile, ...(endpoint ? { endpoint } : {}) };
}
