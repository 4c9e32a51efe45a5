#!/usr/bin/env node
import { Command } from 'commander';
import nodeModule from 'node:module';
import { join } from 'node:path';
import { buildCommand } from './build.js';
import { demoCommand } from './demo.js';
import { diffCommand } from './diff.js';
import { inspectCommand } from './inspect.js';
import { installCommand } from './install.js';
import { keygenCommand } from './keygen.js';
import { nodesCommand } from './nodes.js';
import { defaultCacheDir, defaultDataDir } from './options.js';
import { planCommand } from './plan.js';
import { pushCommand } from './push.js';
import { renderError } from './render-error.js';
import { sbomCommand } from './sbom.js';
import { serveCommand } from './serve.js';
import { signCommand } from './sign.js';
import { splitCommand } from './split.js';
import { verifyCommand } from './verify.js';

export const VERSION = '0.1.0';

/**
 * Every command's command line (its options and help), and nothing more: what a command does is in its `-action`
 * module, loaded with `import()` when it runs. The bundled CLI keeps each of those as modules of its own
 * (scripts/bundle-cli.mjs), so `verify` never parses ssh2, openpgp, the SBOM library or the mirror, and `--help`
 * parses the command lines alone.
 */
function program(): Command {
  const p = new Command('ks-bundle')
    .description('Build one verified bundle for an air-gapped KubeSphere/Kubernetes install, and install it offline.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', '\nExamples:\n  ks-bundle plan -m manifests/demo.yaml\n  ks-bundle build -m manifests/demo.yaml\n  ks-bundle verify bundles/demo-0.1.0.tar\n  ./install.sh   (inside an unpacked bundle, on the taskbox)');
  const commands = [planCommand, buildCommand, verifyCommand, inspectCommand, serveCommand, installCommand, pushCommand, nodesCommand, demoCommand, splitCommand, keygenCommand, signCommand, sbomCommand, diffCommand];
  for (const c of commands) p.addCommand(c().exitOverride());
  return p;
}

/**
 * Node 22 and later keep the code they compile for a module between runs. The modules a command loads after this line
 * (its work) then start faster: `verify` on the Node 24 a bundle carries, 0.18 s instead of 0.19 s. The code in that
 * folder runs, so it is one only this user writes: root's is in the data dir (/var/lib/ks-bundle), whatever HOME or
 * KS_BUNDLE_CACHE say, since the installer runs as root; another user's is in their ks-bundle cache. Node 20 has no
 * such cache, and Node skips a folder it cannot write, silently: either way nothing changes but the time.
 */
const compileCache = join(process.getuid?.() === 0 ? defaultDataDir() : defaultCacheDir(), 'compile-cache');
(nodeModule as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache?.(compileCache);

try {
  await program().parseAsync(process.argv);
} catch (err) {
  process.exitCode = renderError(err);
}
// The only exit: let open handles (a mirror, an ssh session) not keep a finished command alive.
process.exit(process.exitCode ?? 0);
