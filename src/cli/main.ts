#!/usr/bin/env node
import { Command } from 'commander';
import { renderError } from './render-error.js';

export const VERSION = '0.1.0';

/**
 * Each command's module, loaded only when that command runs. A command's module holds its command line alone and
 * loads what the command does (its `-action` module) when it runs, so `--help` and unknown commands, which load
 * every command's module, parse no more than the command lines. The single-file build keeps these `import()`s as
 * modules of their own (scripts/bundle-cli.mjs): `verify` never parses ssh2, openpgp, the SBOM library or the mirror.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  plan: async () => (await import('./plan.js')).planCommand(),
  build: async () => (await import('./build.js')).buildCommand(),
  verify: async () => (await import('./verify.js')).verifyCommand(),
  inspect: async () => (await import('./inspect.js')).inspectCommand(),
  serve: async () => (await import('./serve.js')).serveCommand(),
  install: async () => (await import('./install.js')).installCommand(),
  push: async () => (await import('./push.js')).pushCommand(),
  nodes: async () => (await import('./nodes.js')).nodesCommand(),
  demo: async () => (await import('./demo.js')).demoCommand(),
  split: async () => (await import('./split.js')).splitCommand(),
  keygen: async () => (await import('./keygen.js')).keygenCommand(),
  sign: async () => (await import('./sign.js')).signCommand(),
  sbom: async () => (await import('./sbom.js')).sbomCommand(),
  diff: async () => (await import('./diff.js')).diffCommand(),
};

async function program(argv: string[]): Promise<Command> {
  const p = new Command('ks-bundle')
    .description('Build one verified bundle for an air-gapped KubeSphere/Kubernetes install, and install it offline.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', '\nExamples:\n  ks-bundle plan -m manifests/demo.yaml\n  ks-bundle build -m manifests/demo.yaml\n  ks-bundle verify bundles/demo-0.1.0.tar\n  ./install.sh   (inside an unpacked bundle, on the taskbox)');
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const versionOnly = !named && argv.some((a) => a === '--version' || a === '-V');
  const wanted = named && Object.hasOwn(COMMANDS, named) ? [named] : versionOnly ? [] : Object.keys(COMMANDS);
  for (const c of await Promise.all(wanted.map((n) => COMMANDS[n]!()))) p.addCommand(c.exitOverride());
  return p;
}

try {
  await (await program(process.argv)).parseAsync(process.argv);
} catch (err) {
  process.exitCode = renderError(err);
}
// The only exit: let open handles (a mirror, an ssh session) not keep a finished command alive.
process.exit(process.exitCode ?? 0);
