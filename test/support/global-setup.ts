import { execFileSync } from 'node:child_process';

/**
 * Tests drive the built CLI (dist/), the same file a bundle carries: build it once per run. Type errors are the
 * typecheck's to report (`npm run typecheck`, run by .ci/run); tsc still emits, so tests can run meanwhile.
 */
export default function setup(): void {
  try {
    execFileSync('npx', ['tsc', '-p', '.'], { stdio: 'pipe' });
  } catch (err: any) {
    process.stderr.write(`warning: tsc reported type errors (see npm run typecheck)\n${String(err.stdout ?? '').slice(0, 2000)}\n`);
  }
  execFileSync('node', ['scripts/bundle-cli.mjs'], { stdio: 'inherit' });
}
