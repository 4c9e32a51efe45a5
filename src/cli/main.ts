#!/usr/bin/env node
import { Command } from 'commander';
import { buildCommand } from './build.js';
import { verifyCommand } from './verify.js';
import { inspectCommand } from './inspect.js';
import { serveCommand } from './serve.js';
import { installCommand } from './install.js';
import { pushCommand } from './push.js';
import { nodesCommand } from './nodes.js';
import { demoCommand } from './demo.js';
import { splitCommand } from './split.js';
import { keygenCommand } from './keygen.js';
import { signCommand } from './sign.js';
import { sbomCommand } from './sbom.js';
import { diffCommand } from './diff.js';
import { renderError } from './render-error.js';

export const VERSION = '0.1.0';

function program(): Command {
  const p = new Command('ks-bundle')
    .description('Build one verified bundle for an air-gapped KubeSphere/Kubernetes install, and install it offline.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', '\nExamples:\n  ks-bundle build -m manifests/demo.yaml\n  ks-bundle verify bundles/demo-0.1.0.tar\n  ./install.sh   (inside an unpacked bundle, on the taskbox)');
  for (const c of [buildCommand(), verifyCommand(), inspectCommand(), serveCommand(), installCommand(), pushCommand(), nodesCommand(), demoCommand(), splitCommand(), keygenCommand(), signCommand(), sbomCommand(), diffCommand()]) {
    p.addCommand(c.exitOverride());
  }
  return p;
}

try {
  await program().parseAsync(process.argv);
} catch (err) {
  process.exitCode = renderError(err);
}
// The only exit: let open handles (a mirror, an ssh session) not keep a finished command alive.
process.exit(process.exitCode ?? 0);
