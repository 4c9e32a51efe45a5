// Packs the CLI and its dependencies into self-contained ESM files: dist/ks-bundle.mjs, which only loads
// dist/ks-bundle/main.mjs (every command line), and the modules beside main.mjs, one per command's work and one per
// part they share. A command loads its own code only (`verify` never parses the SBOM library, ssh2 or openpgp): as one
// 3 MB file, `verify` of a small bundle started in 0.26 s and `--help` in 0.36 s; split, in 0.18 s and 0.14 s.
// Every bundle carries these as bin/ks-bundle.mjs and bin/ks-bundle/ (src/runtime/self.ts), so a taskbox needs
// nothing but tar.
import { build } from 'esbuild';
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const OUT = 'dist/ks-bundle';

// Worker threads run modules of their own: each worker module is bundled first and handed to the CLI as a string by
// its name (src/util/worker-module.ts starts it with `eval`), so a thread starts without resolving a file.
const WORKERS = ['src/bundle/tar-pack-worker.ts', 'src/store/hash-worker.ts', 'src/store/sink-worker.ts'];
const workers = {};
for (const entry of WORKERS) {
  const out = await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, legalComments: 'none', logLevel: 'warning' });
  workers[basename(entry, '.ts')] = out.outputFiles[0].text;
}

// CommonJS dependencies read require, __filename and __dirname at load time (ssh2's agent.js resolves a path
// with __dirname when imported): an ESM file has none of them, so this banner defines all three.
const BANNER = [
  "import { createRequire as __ksCreateRequire } from 'node:module';",
  "import { fileURLToPath as __ksFileURLToPath } from 'node:url';",
  "import { dirname as __ksDirname } from 'node:path';",
  'const require = __ksCreateRequire(import.meta.url);',
  'const __filename = __ksFileURLToPath(import.meta.url);',
  'const __dirname = __ksDirname(__filename);',
].join('\n');

// Module names carry a hash of their content: what a build leaves behind from an earlier one would be packed too, so
// each build writes a fresh folder, and puts it in place with a rename (a CLI started meanwhile finds every module).
const fresh = `${OUT}.new-${process.pid}`;
rmSync(fresh, { recursive: true, force: true });
await build({
  entryPoints: [{ in: 'src/cli/main.ts', out: 'main' }],
  define: { __KSB_WORKERS__: JSON.stringify(workers) },
  outdir: fresh,
  // Each `await import()` (the commands in src/cli/main.ts, the heavy libraries where they are used) becomes a module
  // of its own, and code two of them share goes into a third.
  splitting: true,
  chunkNames: '[name]-[hash]',
  entryNames: '[name]',
  outExtension: { '.js': '.mjs' },
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
  banner: { js: BANNER },
  legalComments: 'none',
  logLevel: 'warning',
});
// A module that names none of the three (most of them) is better off without the banner: each import of it is a
// module resolved and linked, and each createRequire a Module made, at every start.
for (const name of readdirSync(fresh)) {
  const file = join(fresh, name);
  const [, hashbang = '', body] = /^(#!.*\n)?([\s\S]*)$/.exec(readFileSync(file, 'utf8'));
  if (body.startsWith(BANNER) && !/\b(require|__filename|__dirname)\b/.test(body.slice(BANNER.length))) writeFileSync(file, hashbang + body.slice(BANNER.length + 1));
}

// Another build of the same tree (two test runs at once) may swap its folder in between our two renames: then ours
// finds OUT taken, moves that one away too, and tries again.
for (let attempt = 0; ; attempt++) {
  const old = `${OUT}.old-${process.pid}-${attempt}`;
  try {
    renameSync(OUT, old);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  rmSync(old, { recursive: true, force: true });
  try {
    renameSync(fresh, OUT);
    break;
  } catch (err) {
    if ((err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') || attempt > 10) throw err;
  }
}

// The command users and install.sh run. The modules sit one folder down, all in the same folder, so `import.meta.url`
// names the same folder in each of them (src/runtime/self.ts finds the package or the unpacked bundle from it).
writeFileSync(
  'dist/ks-bundle.mjs',
  ['#!/usr/bin/env node', '// ks-bundle: the command line lives in ks-bundle/ beside this file (made by scripts/bundle-cli.mjs).', "import './ks-bundle/main.mjs';", ''].join('\n'),
);
chmodSync('dist/ks-bundle.mjs', 0o755);
