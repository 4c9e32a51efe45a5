/**
 * Errors a user can hit. Each names the thing it is about (URL, package, node, file:line) and may carry a hint.
 * Exit codes: 0 ok, 1 failed, 2 bad usage or bad input, 3 integrity failure.
 */
export type ErrorCode =
  | 'USAGE'
  | 'INVALID_INPUT'
  | 'NETWORK'
  | 'HTTP'
  | 'INTEGRITY'
  | 'RESOLVE'
  | 'NODE'
  | 'FAILED';

/**
 * Why an upstream could not give an artifact, as `plan --json` reports it: the name or tag is gone (`not-found`:
 * HTTP 404/410, a registry's NAME_UNKNOWN/MANIFEST_UNKNOWN), credentials are missing or refused (`unauthorized`:
 * 401/403), the host could not be reached or kept failing (`network`), or it serves other bytes than the pin
 * (`digest-mismatch`).
 */
export type UnavailableReason = 'not-found' | 'unauthorized' | 'network' | 'digest-mismatch';

export interface KsBundleErrorOptions {
  hint?: string;
  cause?: unknown;
  exitCode?: number;
  /** Set when the error means an upstream cannot give the artifact (see unavailableReason). */
  reason?: UnavailableReason;
}

export class KsBundleError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint?: string;
  readonly reason?: UnavailableReason;

  constructor(code: ErrorCode, message: string, options: KsBundleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? defaultExitCode(code);
    if (options.reason) this.reason = options.reason;
  }
}

function defaultExitCode(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'INVALID_INPUT':
      return 2;
    case 'INTEGRITY':
      return 3;
    default:
      return 1;
  }
}

/** Bad input: a manifest, inventory or flag. Exit 2. */
export class InputError extends KsBundleError {
  constructor(message: string, options: KsBundleErrorOptions = {}) {
    super('INVALID_INPUT', message, options);
  }
}

/** One problem of many found while validating a file. */
export interface Problem {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** A file with one or more problems; all of them are listed, not just the first. Exit 2. */
export class ValidationError extends KsBundleError {
  readonly problems: Problem[];
  constructor(file: string, problems: Problem[], hint?: string) {
    const head = `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    super('INVALID_INPUT', [head, ...problems.map((p) => '  ' + formatProblem(p))].join('\n'), { hint });
    this.problems = problems;
  }
}

/** Bytes that are not what they claim to be. Exit 3. */
export class IntegrityError extends KsBundleError {
  constructor(message: string, options: KsBundleErrorOptions = {}) {
    super('INTEGRITY', message, options);
  }
}

/** A server answered with something we cannot use, after every retry. */
export class HttpError extends KsBundleError {
  readonly status: number;
  readonly url: string;
  constructor(url: string, status: number, statusText: string, options: KsBundleErrorOptions = {}) {
    super('HTTP', `${redactUrl(url)}: HTTP ${status}${statusText ? ' ' + statusText : ''}`, { reason: reasonOfStatus(status), ...options });
    this.status = status;
    this.url = redactUrl(url);
  }
}

function reasonOfStatus(status: number): UnavailableReason | undefined {
  if (status === 404 || status === 410) return 'not-found';
  if (status === 401 || status === 403) return 'unauthorized';
  // Still failing after every retry: the host is there but cannot serve it now.
  if (status === 429 || status >= 500) return 'network';
  return undefined;
}

/** An upstream served other bytes than the pin (a moved tag, a replaced file): never substituted. Exit 3. */
export class DigestMismatchError extends IntegrityError {
  readonly expected: string;
  readonly got: string;
  constructor(message: string, expected: string, got: string, options: KsBundleErrorOptions = {}) {
    super(message, { reason: 'digest-mismatch', ...options });
    this.expected = expected;
    this.got = got;
  }
}

/**
 * Whether an error means "this source cannot give the artifact" (so the next alternate is worth a try, and `plan`
 * lists it as unavailable), and why. Anything else (bad input, a full disk, a bug) is not about the source.
 */
export function unavailableReason(err: unknown): UnavailableReason | undefined {
  if (!(err instanceof KsBundleError)) return undefined;
  if (err.reason) return err.reason;
  if (err.code === 'NETWORK') return 'network';
  return undefined;
}

/**
 * Query parameters that carry a secret: tokens, passwords, API keys, and the signatures and credentials of
 * pre-signed object-storage URLs (S3 `X-Amz-Signature`/`X-Amz-Credential`/`X-Amz-Security-Token`, GCS
 * `X-Goog-Signature`, Azure SAS `sig`).
 */
const SECRET_PARAM = /token|secret|passw|signature|credential|api[-_]?key|^key$|^sig$|^auth|session/i;

/**
 * The one redaction of URLs: `user:password@` becomes `***@`, and the value of every secret-looking query parameter
 * becomes `***`. Whatever is stored (lock, bundle.yaml, the cache's source records) or printed (errors, progress,
 * logs) passes through here; the request itself uses the URL as given.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//***@').replace(/([?&][^=&#\s]+=)[^&#\s]*/g, (m, head: string) => (SECRET_PARAM.test(head.slice(1, -1)) ? head + '***' : m));
  }
  if (u.username || u.password) {
    u.username = '***';
    u.password = '';
  }
  // Only touch the query when a secret is there, so an ordinary URL keeps its exact spelling.
  if ([...u.searchParams.keys()].some((k) => SECRET_PARAM.test(k))) {
    const kept = [...u.searchParams].map(([k, v]) => [k, SECRET_PARAM.test(k) ? '***' : v] as [string, string]);
    u.search = '';
    for (const [k, v] of kept) u.searchParams.append(k, v);
  }
  return u.toString();
}

/** Every http(s) URL inside a free text (an upstream's error, a stack trace) redacted as `redactUrl` does. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s"'<>()]+/gi, (m) => redactUrl(m));
}

/**
 * The inverse for a URL read back from a lock: when `redacted` is on the same origin as one of the URLs the manifest
 * gives (which hold the credentials), it gets that URL's `user:password@` and the values of its secret query
 * parameters back. A lock thus never holds a secret, and `--locked` still sends it.
 */
export function withCredentialsOf(redacted: string, givenUrls: readonly string[]): string {
  let u: URL;
  try {
    u = new URL(redacted);
  } catch {
    return redacted;
  }
  for (const given of givenUrls) {
    let g: URL;
    try {
      g = new URL(given);
    } catch {
      continue;
    }
    if (g.origin !== u.origin) continue;
    if (u.username === '***') {
      u.username = g.username;
      u.password = g.password;
    }
    for (const [k, v] of [...u.searchParams]) {
      const secret = g.searchParams.get(k);
      if (v === '***' && secret !== null) u.searchParams.set(k, secret);
    }
    return u.toString();
  }
  return redacted;
}

/** What a file-system error code means to a user, for the ones a full or locked-down machine gives. */
const LOCAL_CAUSES: Record<string, string> = {
  ENOSPC: 'no space left in',
  EDQUOT: 'disk quota exceeded in',
  EACCES: 'no permission for',
  EPERM: 'no permission for',
  EROFS: 'read-only file system at',
  EMFILE: 'too many open files while writing in',
  ENFILE: 'too many open files while writing in',
};

/**
 * A failure of this machine rather than of the input (a full disk, a folder that is not writable): exit 1, naming
 * the folder and what was being done, never reported as a bad or corrupt input. `err` is the file system's error.
 */
export function localFailure(err: unknown, folder: string, doing: string): KsBundleError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const what = (code && LOCAL_CAUSES[code]) ?? 'a failure in';
  const detail = code && LOCAL_CAUSES[code] ? '' : ` (${(err as Error)?.message ?? String(err)})`;
  return new KsBundleError('FAILED', `${what} ${folder} while ${doing}${detail}`, {
    cause: err,
    hint: code === 'ENOSPC' || code === 'EDQUOT' ? `Free space in ${folder}, or point the command at a folder with more room.` : `Check ${folder}: it must exist and be writable by this user.`,
  });
}
