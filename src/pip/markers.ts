/**
 * PEP 508 dependency specifiers: `name[extra,…] (specifier) ; marker` or `name @ url ; marker`, and marker
 * evaluation for one target environment. Versions and specifiers are compared by @renovatebot/pep440.
 */
import { compare, valid, validRange } from '@renovatebot/pep440';
import { InputError } from '../errors.js';
import { normalizeName } from './names.js';

export type Marker =
  | { op: 'and' | 'or'; left: Marker; right: Marker }
  | { op: 'cmp'; left: MarkerValue; cmp: string; right: MarkerValue };

export type MarkerValue = { variable: string } | { literal: string };

export interface Requirement {
  /** Normalised project name. */
  name: string;
  /** As written, for messages. */
  raw: string;
  extras: string[];
  /** PEP 440 specifier set, `''` for any version. */
  specifier: string;
  url?: string;
  marker?: Marker;
}

/** The marker variables of PEP 508 for one target. `extra` is supplied per evaluation. */
export type MarkerEnv = Record<string, string>;

const VARIABLES = new Set([
  'python_version', 'python_full_version', 'os_name', 'sys_platform', 'platform_release', 'platform_system',
  'platform_version', 'platform_machine', 'platform_python_implementation', 'implementation_name',
  'implementation_version', 'extra',
  // Legacy spellings from PEP 345, still seen in old metadata.
  'os.name', 'sys.platform', 'platform.version', 'platform.machine', 'platform.python_implementation', 'python_implementation',
]);
const LEGACY: Record<string, string> = {
  'os.name': 'os_name', 'sys.platform': 'sys_platform', 'platform.version': 'platform_version',
  'platform.machine': 'platform_machine', 'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
};

export function parseRequirement(text: string): Requirement {
  const raw = text.trim();
  const fail = (why: string): never => {
    throw new InputError(`invalid requirement "${raw}": ${why}`, { hint: 'Requirements follow PEP 508, e.g. "Jinja2>=3.0; python_version >= \'3.8\'".' });
  };
  const semi = findMarkerSemicolon(raw);
  const head = (semi < 0 ? raw : raw.slice(0, semi)).trim();
  const markerText = semi < 0 ? undefined : raw.slice(semi + 1).trim();
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[([^\]]*)\])?\s*(.*)$/s.exec(head);
  if (!m) return fail('no project name');
  const extras = (m[3] ?? '').split(',').map((e) => e.trim()).filter(Boolean).map(normalizeName);
  let rest = m[4]!.trim();
  let url: string | undefined;
  if (rest.startsWith('@')) {
    url = rest.slice(1).trim();
    rest = '';
  }
  if (rest.startsWith('(') && rest.endsWith(')')) rest = rest.slice(1, -1).trim();
  const specifier = rest.replace(/\s+/g, '');
  if (specifier && !validRange(specifier)) fail(`bad version specifier "${rest}"`);
  let marker: Marker | undefined;
  if (markerText) {
    try {
      marker = parseMarker(markerText);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  return { name: normalizeName(m[1]!), raw, extras, specifier, url, marker };
}

/** The `;` that starts the marker; in a URL requirement it must be preceded by whitespace. */
function findMarkerSemicolon(text: string): number {
  const at = text.indexOf('@');
  if (at < 0) return text.indexOf(';');
  const m = /\s;/.exec(text.slice(at));
  return m ? at + m.index + 1 : -1;
}

type Token = { t: 'str' | 'var' | 'op' | '(' | ')' | 'and' | 'or'; v: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\()|(\))|('[^']*'|"[^"]*")|(===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)|(and\b|or\b)|([A-Za-z_][A-Za-z0-9_.]*))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`cannot read marker at "${text.slice(pos)}"`);
    pos = re.lastIndex;
    if (m[1]) tokens.push({ t: '(', v: '(' });
    else if (m[2]) tokens.push({ t: ')', v: ')' });
    else if (m[3]) tokens.push({ t: 'str', v: m[3].slice(1, -1) });
    else if (m[4]) tokens.push({ t: 'op', v: m[4].replace(/\s+/g, ' ') });
    else if (m[5]) tokens.push({ t: m[5] as 'and' | 'or', v: m[5] });
    else if (m[6]) {
      if (!VARIABLES.has(m[6])) throw new Error(`unknown marker variable "${m[6]}"`);
      tokens.push({ t: 'var', v: LEGACY[m[6]] ?? m[6] });
    }
  }
  return tokens;
}

/** Marker grammar: or_expr := and_expr ('or' and_expr)*; and_expr := atom ('and' atom)*; atom := '(' or_expr ')' | value op value. */
export function parseMarker(text: string): Marker {
  const tokens = tokenize(text);
  let i = 0;
  const value = (): MarkerValue => {
    const tok = tokens[i++];
    if (tok?.t === 'str') return { literal: tok.v };
    if (tok?.t === 'var') return { variable: tok.v };
    throw new Error(`expected a marker variable or a quoted string in "${text}"`);
  };
  const atom = (): Marker => {
    if (tokens[i]?.t === '(') {
      i++;
      const inner = orExpr();
      if (tokens[i++]?.t !== ')') throw new Error(`missing ")" in "${text}"`);
      return inner;
    }
    const left = value();
    const op = tokens[i++];
    if (op?.t !== 'op') throw new Error(`expected a comparison in "${text}"`);
    return { op: 'cmp', left, cmp: op.v, right: value() };
  };
  const andExpr = (): Marker => {
    let left = atom();
    while (tokens[i]?.t === 'and') {
      i++;
      left = { op: 'and', left, right: atom() };
    }
    return left;
  };
  const orExpr = (): Marker => {
    let left = andExpr();
    while (tokens[i]?.t === 'or') {
      i++;
      left = { op: 'or', left, right: andExpr() };
    }
    return left;
  };
  const marker = orExpr();
  if (i !== tokens.length) throw new Error(`unexpected "${tokens[i]!.v}" in marker "${text}"`);
  return marker;
}

/** Evaluate for one environment. `extra` compares by normalised name, as pip does. */
export function evaluateMarker(marker: Marker, env: MarkerEnv): boolean {
  if (marker.op !== 'cmp') {
    const left = evaluateMarker(marker.left, env);
    return marker.op === 'and' ? left && evaluateMarker(marker.right, env) : left || evaluateMarker(marker.right, env);
  }
  const isExtra = [marker.left, marker.right].some((v) => 'variable' in v && v.variable === 'extra');
  const resolve = (v: MarkerValue): string => {
    const s = 'literal' in v ? v.literal : (env[v.variable] ?? '');
    return isExtra ? normalizeName(s) : s;
  };
  return compareMarker(resolve(marker.left), marker.cmp, resolve(marker.right));
}

function compareMarker(left: string, op: string, right: string): boolean {
  if (op === 'in') return right.includes(left);
  if (op === 'not in') return !right.includes(left);
  // PEP 508: compare as versions when both sides are versions, else as strings.
  if (valid(left) && valid(right) && op !== '===') {
    const c = op === '~=' ? 0 : compare(left, right);
    switch (op) {
      case '==': return c === 0;
      case '!=': return c !== 0;
      case '<': return c < 0;
      case '<=': return c <= 0;
      case '>': return c > 0;
      case '>=': return c >= 0;
      case '~=': return compatibleRelease(left, right);
    }
  }
  switch (op) {
    case '==': case '===': return left === right;
    case '!=': return left !== right;
    case '<': return left < right;
    case '<=': return left <= right;
    case '>': return left > right;
    case '>=': return left >= right;
  }
  return false;
}

function compatibleRelease(version: string, spec: string): boolean {
  const parts = spec.split('.');
  if (parts.length < 2) return false;
  const prefix = parts.slice(0, -1).join('.');
  return compare(version, spec) >= 0 && (version === prefix || version.startsWith(prefix + '.'));
}

/** Is this requirement active for the target with the given extras requested of the package that declared it? */
export function requirementApplies(req: Requirement, env: MarkerEnv, extras: Iterable<string>): boolean {
  if (!req.marker) return true;
  const list = ['', ...extras];
  return list.some((extra) => evaluateMarker(req.marker!, { ...env, extra }));
}

/** Marker environment of a target interpreter on Linux. The micro version is unknown; ".0" stands for it. */
export function markerEnvFor(target: { python: string; arch: 'amd64' | 'arm64' }): MarkerEnv {
  const full = target.python.split('.').length >= 3 ? target.python : `${target.python}.0`;
  return {
    python_version: target.python.split('.').slice(0, 2).join('.'),
    python_full_version: full,
    implementation_version: full,
    os_name: 'posix',
    sys_platform: 'linux',
    platform_system: 'Linux',
    platform_machine: target.arch === 'amd64' ? 'x86_64' : 'aarch64',
    platform_python_implementation: 'CPython',
    implementation_name: 'cpython',
    platform_release: '',
    platform_version: '',
  };
}
