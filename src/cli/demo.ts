import { Command } from 'commander';

/**
 * The demo needs the repository's fixtures (a registry image built with umoci, the wheel index builder, the sandbox
 * library), so it lives in scripts/demo.ts of a checkout. From a checkout this command runs it; anywhere else (an
 * installed CLI, a bundle's bin/ks-bundle.mjs) it says how to get one, and does nothing.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('Run the whole flow on this machine with local upstreams, from a checkout of ks-bundle (root for the sandbox nodes)')
    .addHelpText('after', '\nFrom a checkout, after `bash scripts/setup-system.sh && npm ci`:\n  sudo npm run demo\n\nWithout root it stops after serving the bundle and pulling from it with skopeo, pip and gpgv.')
    .action(async () => (await import('./demo-action.js')).demoAction());
}
