import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KsBundleError } from '../errors.js';

/** Where the installer's modules sit beside bin/ks-bundle.mjs (and dist/ks-bundle.mjs): see scripts/bundle-cli.mjs. */
export const INSTALLER_MODULES = 'ks-bundle';

/** One file of the installer: where it is on this machine, and its path in the bundle. */
export interface InstallerFile {
  file: string;
  path: string;
}

/**
 * The self-contained installer every bundle carries: bin/ks-bundle.mjs and every module of bin/ks-bundle/ it loads
 * (each command loads only its own). These very files when we run from them (an unpacked bundle's bin/, or the
 * dist/ of a package), else the ones `npm run build` writes to dist/.
 */
export async function installerFiles(): Promise<InstallerFile[]> {
  const here = dirname(fileURLToPath(import.meta.url));
  const bin = basename(here) === INSTALLER_MODULES && existsSync(join(here, 'main.mjs')) ? dirname(here) : join(packageRoot(), 'dist');
  const modules = join(bin, INSTALLER_MODULES);
  if (!existsSync(join(bin, 'ks-bundle.mjs')) || !existsSync(join(modules, 'main.mjs'))) {
    throw new KsBundleError('FAILED', `${join(bin, 'ks-bundle.mjs')} or ${join(modules, 'main.mjs')} is missing`, {
      hint: 'Run `npm run build` (npm ci does it) so the installer can be packed into the bundle.',
    });
  }
  const names = (await readdir(modules)).filter((n) => n.endsWith('.mjs')).sort();
  return [{ file: join(bin, 'ks-bundle.mjs'), path: 'bin/ks-bundle.mjs' }, ...names.map((n) => ({ file: join(modules, n), path: `bin/${INSTALLER_MODULES}/${n}` }))];
}

/**
 * The checkout or installed package this code runs from: dist/runtime/self.js and src/runtime/self.ts sit two folders
 * down, and so do the bundled modules (dist/ks-bundle/*.mjs, or bin/ks-bundle/*.mjs of an unpacked bundle).
 */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}
