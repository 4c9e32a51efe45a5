import { execFileSync } from 'node:child_process';

/** The digest as coreutils computes it: an oracle independent of the code under test. */
export function sha256sum(file: string): string {
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).slice(0, 64);
}
