import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KsBundleError } from '../errors.js';

/**
 * The self-contained installer file that goes into every bundle as bin/ks-bundle.mjs: this very file when we run
 * from a bundle, else the one `npm run build` writes to dist/.
 */
export function selfBundlePath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.mjs')) return here;
  const candidate = join(packageRoot(), 'dist', 'ks-bundle.mjs');
  if (existsSync(candidate)) return candidate;
  throw new KsBundleError('FAILED', `${candidate} is missing`, { hint: 'Run `npm run build` (npm ci does it) so the installer can be packed into the bundle.' });
}

export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/runtime/self.js → package root; a single-file bundle sits in bin/ of an unpacked bundle.
  return here.endsWith(`${join('dist', 'runtime')}`) || here.endsWith(join('src', 'runtime')) ? resolve(here, '..', '..') : resolve(here, '..');
}
