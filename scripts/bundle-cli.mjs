// Packs the CLI and its dependencies into one self-contained ESM file, dist/ks-bundle.mjs: the installer every
// bundle carries as bin/ks-bundle.mjs, so a taskbox needs nothing but tar.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/ks-bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // ssh2's native helpers are optional; it falls back to pure JS without them.
  external: ['cpu-features', '*.node'],
  banner: { js: "import { createRequire as __ksCreateRequire } from 'node:module';\nconst require = __ksCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync('dist/ks-bundle.mjs', 0o755);
