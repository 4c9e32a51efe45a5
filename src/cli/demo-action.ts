import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KsBundleError } from '../errors.js';

/** `ks-bundle demo`, its command line parsed (cli/demo.ts): runs scripts/demo.ts of the checkout this CLI is in. */
export async function demoAction(): Promise<void> {
  // dist/cli/demo-action.js or dist/ks-bundle/<module>.mjs of a checkout (both two folders down); a bundle's bin/ has none.
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  if (!existsSync(join(repo, 'scripts', 'demo.ts')) || !existsSync(join(repo, 'node_modules', '.bin', 'tsx'))) {
    throw new KsBundleError('USAGE', 'the demo runs from a checkout of ks-bundle: it needs the repository\'s test fixtures', {
      hint: 'git clone the ks-bundle repository, then in it: bash scripts/setup-system.sh && npm ci && sudo npm run demo',
    });
  }
  const child = spawn(join(repo, 'node_modules', '.bin', 'tsx'), [join(repo, 'scripts', 'demo.ts')], { cwd: repo, stdio: 'inherit' });
  // Ctrl-C reaches the demo too (same process group); it cleans up and exits, and so do we after it.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => {});
  process.exitCode = await new Promise<number>((r) => child.on('close', (code, signal) => r(code ?? (signal ? 130 : 1))));
}
