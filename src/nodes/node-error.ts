import { KsBundleError, type KsBundleErrorOptions } from '../errors.js';

/** Something went wrong on one node; the message starts with its inventory name. Exit 1. */
export class NodeError extends KsBundleError {
  readonly node: string;
  constructor(node: string, message: string, options: KsBundleErrorOptions = {}) {
    super('NODE', `${node}: ${message}`, options);
    this.node = node;
  }
}

/** Replace every secret in `text` (a remote's stderr may echo what it was fed). */
export function redactSecrets(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

/** POSIX single-quote a word for `sh -c`. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
