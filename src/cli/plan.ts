import { Command } from 'commander';
import { BUILD_ENVIRONMENT_HELP, addBuildOptions } from './build-options.js';

export function planCommand(): Command {
  return addBuildOptions(
    new Command('plan').description(
      'Resolve what a build would fetch, without downloading it: counts and bytes per kind, the bundle\'s size, the disk needed and free, and what no source can give',
    ),
  )
    .option('--json', 'the plan as one JSON document on stdout')
    .addHelpText(
      'after',
      '\nTakes build\'s options; nothing is downloaded but metadata (registry manifests, apt and pip indexes, file sizes).\n' +
        'Exit 0 when every artifact is available, 1 when one is not (each listed with every source tried and why).\n' +
        '--json prints {kinds: {images, files, debs, wheels, manifests, playbooks, runtime: {count, bytes, cachedBytes}},\n' +
        'bundleBytes, diskNeeded, diskFree, unavailable: [{kind, name, tried: [{source, error}]}]}: diskNeeded is the\n' +
        'bundle at the output\'s folder plus what is still to download when the cache is on the same file system.\n' +
        '\nExample:\n  ks-bundle plan -m manifests/kubesphere.yaml -o /mnt/usb/kubesphere.tar\n  ks-bundle plan -m manifests/kubesphere.yaml --json | jq .unavailable\n' +
        BUILD_ENVIRONMENT_HELP,
    )
    .action(async (o) => (await import('./plan-action.js')).planAction(o));
}
