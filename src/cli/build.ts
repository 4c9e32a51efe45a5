import { Command } from 'commander';
import { buildBundle } from '../assemble/assemble.js';
import { createRenderer, progressMode } from './progress.js';
import { BUILD_ENVIRONMENT_HELP, addBuildOptions, planOptionsOf, withCancellableHttp } from './build-options.js';
import { formatBytes, formatDuration } from '../progress/format.js';

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
    .action(async (o) => {
      const renderer = createRenderer(progressMode(!!o.json));
      const t0 = Date.now();
      try {
        const r = await withCancellableHttp((http, signal) => buildBundle({ ...planOptionsOf(o, http, signal, renderer.onProgress), allowMissing: !!o.allowMissing }));
        renderer.stop();
        if (o.json) {
          process.stdout.write(JSON.stringify({ event: 'result', bundle: r.bundle.path, sha256: r.bundle.sha256, bytes: r.bundle.bytes, files: r.bundle.files, lock: r.lockFiles }) + '\n');
        } else {
          process.stdout.write(
            `bundle  ${r.bundle.path}\n` +
              `files   ${r.bundle.files}, ${formatBytes(r.bundle.bytes)}\n` +
              (r.lock.base ? `delta   over ${r.lock.base.name} ${r.lock.base.version}: ${r.bundle.fromBase} file(s) left to it\n` : '') +
              (r.bundle.sha256 ? `sha256  ${r.bundle.sha256}\n` : '') +
              `lock    ${r.lockFiles.join(', ')}\n` +
              `took    ${formatDuration(Date.now() - t0)}\n`,
          );
        }
      } finally {
        renderer.stop();
      }
    });
}
