import { Command, Option } from 'commander';
import { buildBundle } from '../assemble/assemble.js';
import { createRenderer, progressMode } from './progress.js';
import { httpClientFromEnv } from './http.js';
import { defaultCacheDir, positiveInt } from './options.js';
import { formatBytes, formatDuration } from '../progress/format.js';
import { KsBundleError } from '../errors.js';

export function buildCommand(): Command {
  return new Command('build')
    .description('Fetch everything a manifest names, verify every byte, and write one checksummed bundle')
    .option('-m, --manifest <file>', 'the bundle manifest', 'manifests/kubesphere.yaml')
    .option('-o, --output <file|dir>', 'a .tar or .tar.gz file, or a folder for an unpacked bundle (default: bundles/<name>-<version>.tar)')
    .addOption(new Option('--compress <kind>', 'outer compression; layers, debs and wheels are compressed already').choices(['none', 'gzip']).default('none'))
    .option('--cache <dir>', 'the content-addressed download cache', defaultCacheDir())
    .option('--locked', 'build exactly the lock file, or fail saying what differs')
    .option('--lock <file>', 'the lock file (default: <manifest>.lock.yaml beside the manifest)')
    .addOption(new Option('--runtime <source>', 'where bin/node comes from: the npm registry builds, or this machine\'s node').choices(['npm', 'local']))
    .option('--concurrency <n>', 'requests to upstreams in flight at once, all kinds together', positiveInt, 4)
    .option('--registry-auth <file>', 'registry credentials in docker config.json format')
    .option('--allow-missing', 'only warn when the install would ask for an image or file the bundle lacks')
    .option('--since <old>', 'write a delta: only what OLD (a bundle, or the .lock.yaml beside it) lacks; install it over OLD')
    .option('--json', 'progress and result as JSON lines')
    .addHelpText(
      'after',
      '\nExample:\n  ks-bundle build -m manifests/demo.yaml -o bundles/demo.tar\n  ks-bundle build -m manifests/kubesphere.yaml --locked\n' +
        '  ks-bundle build -m manifests/kubesphere.yaml --since bundles/kubesphere-3.4.0.tar.lock.yaml -o bundles/kubesphere-3.4.1-delta.tar\n' +
        '\nEnvironment: https_proxy, http_proxy, no_proxy (as curl reads them); NODE_EXTRA_CA_CERTS (a private CA for every host);\n' +
        'KS_BUNDLE_IDLE_TIMEOUT (seconds of silence before a request is retried, default 60); npm_config_registry (the runtime\'s registry).',
    )
    .action(async (o) => {
      const renderer = createRenderer(progressMode(!!o.json));
      const t0 = Date.now();
      // Ctrl-C cancels: requests in flight are aborted, no new one starts, temp files and the work folder are removed,
      // and what finished stays in the cache (a partial download too, for the next run to resume). A second Ctrl-C
      // leaves at once.
      const cancel = new AbortController();
      const interrupted = (signal: NodeJS.Signals) => {
        if (cancel.signal.aborted) process.exit(130);
        cancel.abort(new KsBundleError('FAILED', `interrupted (${signal})`, { exitCode: 130, hint: 'Run the same command again: finished downloads are kept and a partial one resumes.' }));
      };
      process.on('SIGINT', interrupted);
      process.on('SIGTERM', interrupted);
      const http = httpClientFromEnv(process.env, cancel.signal);
      try {
        const r = await buildBundle({
          manifestPath: o.manifest,
          out: o.output,
          compress: o.compress,
          cacheDir: o.cache,
          locked: !!o.locked,
          lockFile: o.lock,
          runtime: o.runtime,
          concurrency: o.concurrency,
          registryAuthFile: o.registryAuth,
          allowMissing: !!o.allowMissing,
          since: o.since,
          onProgress: renderer.onProgress,
          http,
          npmRegistry: process.env.npm_config_registry || process.env.NPM_CONFIG_REGISTRY || undefined,
          signal: cancel.signal,
        }).catch((err: unknown) => {
          // Whatever an aborted request threw, the user pressed Ctrl-C: say that.
          throw cancel.signal.aborted ? cancel.signal.reason : err;
        });
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
        await http.close();
        process.off('SIGINT', interrupted);
        process.off('SIGTERM', interrupted);
      }
    });
}
