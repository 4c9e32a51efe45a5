// Packs the CLI and its dependencies into one self-contained ESM file, dist/ks-bundle.mjs: the installer every
// bundle carries as bin/ks-bundle.mjs, so a taskbox needs nothing but tar.
import { build } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';

// Worker threads run modules of their own; a single file has no second file to start, so each worker module is
// bundled first and handed to the CLI as a string by its name (src/util/worker-module.ts starts it with `eval`).
const WORKERS = ['src/bundle/tar-pack-worker.ts', 'src/store/hash-worker.ts', 'src/store/sink-worker.ts'];
const workers = {};
for (const entry of WORKERS) {
  const out = await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, legalComments: 'none', logLevel: 'warning' });
  workers[basename(entry, '.ts')] = out.outputFiles[0].text;
}

await build({
  entryPoints: ['src/cli/main.ts'],
  define: { __KSB_WORKERS__: JSON.stringify(workers) },
  outfile: 'dist/ks-bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // ssh2's native helpers are optional; it falls back to pure JS without them.
  // The CycloneDX library's validators and XML writer are optional plug-ins it loads only when asked (we write JSON
  // and validate in tests): left out, they are simply absent at run time.
  external: ['cpu-features', 'ajv', 'ajv-formats', 'ajv-formats-draft2019', 'xmlbuilder2', 'libxmljs2'],
  plugins: [
    {
      // Native addons (`x.node` binaries) stay outside the bundle; a module named `x.node.js` (the CycloneDX library's
      // Node entry points, required as `./x.node`) is JavaScript and goes in.
      name: 'native-addons-external',
      setup(b) {
        b.onResolve({ filter: /\.node$/ }, (args) => (existsSync(join(args.resolveDir, args.path) + '.js') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
  // CommonJS dependencies read require, __filename and __dirname at load time (ssh2's agent.js resolves a path
  // with __dirname when imported): an ESM file has none of them, so the banner defines all three.
  banner: {
    js: [
      "import { createRequire as __ksCreateRequire } from 'node:module';",
      "import { fileURLToPath as __ksFileURLToPath } from 'node:url';",
      "import { dirname as __ksDirname } from 'node:path';",
      'const require = __ksCreateRequire(import.meta.url);',
      'const __filename = __ksFileURLToPath(import.meta.url);',
      'const __dirname = __ksDirname(__filename);',
    ].join('\n'),
  },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync('dist/ks-bundle.mjs', 0o755);
