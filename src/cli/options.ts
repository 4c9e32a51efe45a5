import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';

export function defaultCacheDir(): string {
  return process.env.KS_BUNDLE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ks-bundle');
}

/** Where a bundle tarball is unpacked and an install keeps its state. */
export function defaultDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/ks-bundle' : join(process.env.HOME ?? '.', '.local', 'share', 'ks-bundle');
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}
