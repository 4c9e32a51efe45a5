import { Command } from 'commander';
import { BUILD_ENVIRONMENT_HELP, addBuildOptions } from './build-options.js';

export function buildCommand(): Command {
  return addBuildOptions(new Command('build').description('Fetch everything a manifest names, verify every byte, and write one checksummed bundle'))
    .option('--json', 'progress and result as JSON lines')
    .addHelpText(
      'after',
      '\nBefore downloading, the build checks that the cache and the output\'s folder have room for what is still to\n' +
        'download and for the bundle (summed when they share a file system), and stops with both figures if not.\n' +
        '`ks-bundle plan` with the same options shows those figures without building.\n' +
        '\nExample:\n  ks-bundle build -m manifests/demo.yaml -o bundles/demo.tar\n  ks-bundle build -m manifests/kubesphere.yaml --locked\n' +
        '  ks-bundle build -m manifests/kubesphere.yaml --since bundles/kubesphere-3.4.0.tar.lock.yaml -o bundles/kubesphere-3.4.1-delta.tar\n' +
        BUILD_ENVIRONMENT_HELP,
    )
    .action(async (o) => (await import('./build-action.js')).buildAction(o));
}
