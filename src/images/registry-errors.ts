import type { UnavailableReason } from '../errors.js';
import { safeForTerminal } from '../text/terminal.js';

/**
 * The error body of the distribution API (`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown",
 * "detail":…}]}`), read so that a user sees the registry's own words and the build can tell "gone" from "not
 * allowed" when a registry's status code alone does not. Pure.
 */
export interface RegistryErrorItem {
  code: string;
  message: string;
}

/** At most this many items are kept: a hostile body cannot flood a message. */
const MAX_ITEMS = 4;

/** The `errors` of a registry's answer; empty when the body is not one (HTML from a proxy, nothing at all). */
export function parseRegistryErrors(body: Buffer | string): RegistryErrorItem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : body);
  } catch {
    return [];
  }
  const errors = (doc as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  const out: RegistryErrorItem[] = [];
  for (const e of errors) {
    const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code !== 'string' || !code) continue;
    out.push({ code: shown(code, 64), message: typeof message === 'string' ? shown(message, 200) : '' });
    if (out.length === MAX_ITEMS) break;
  }
  return out;
}

function shown(text: string, max: number): string {
  const one = safeForTerminal(text.replace(/\s+/g, ' ').trim());
  return one.length > max ? one.slice(0, max) + '…' : one;
}

/** `MANIFEST_UNKNOWN: manifest unknown; …`, for a message. */
export function describeRegistryErrors(items: readonly RegistryErrorItem[]): string {
  return items.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; ');
}

// The codes of the distribution spec that mean the name or the content is not there, and those that mean "not for
// you". Harbor says NOT_FOUND; GitHub's registry says DENIED for a package that is private or does not exist.
const NOT_FOUND_CODES = new Set(['NAME_UNKNOWN', 'MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'NOT_FOUND', 'TAG_INVALID_OR_NOT_FOUND']);
const UNAUTHORIZED_CODES = new Set(['UNAUTHORIZED', 'DENIED']);

/** What the registry's codes say about availability; undefined when they say nothing the status does not. */
export function reasonOfRegistryErrors(items: readonly RegistryErrorItem[]): UnavailableReason | undefined {
  if (items.some((e) => NOT_FOUND_CODES.has(e.code))) return 'not-found';
  if (items.some((e) => UNAUTHORIZED_CODES.has(e.code))) return 'unauthorized';
  return undefined;
}
