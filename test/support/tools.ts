import { execFileSync } from 'node:child_process';

/**
 * Tests run real servers and clients. A missing one is a failure, never a skip: `bash scripts/setup-system.sh`
 * installs them all.
 */
export function requireTools(...names: string[]): void {
  const missing = names.filter((n) => {
    try {
      execFileSync('sh', ['-c', `command -v ${n}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) {
    throw new Error(`missing system tools: ${missing.join(', ')}; run: bash scripts/setup-system.sh`);
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
