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

export interface KsBundleErrorOptions {
  hint?: string;
  cause?: unknown;
  exitCode?: number;
}

export class KsBundleError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: KsBundleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? defaultExitCode(code);
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
    super('HTTP', `${redactUrl(url)}: HTTP ${status}${statusText ? ' ' + statusText : ''}`, options);
    this.status = status;
    this.url = redactUrl(url);
  }
}

/** Strip user:password@ from URLs before they reach a message or a log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//***@');
  }
}
