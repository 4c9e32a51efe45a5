import { Option, type Command } from 'commander';
import type { PlanOptions } from '../assemble/plan.js';
import type { HttpClient } from '../net/client.js';
import type { OnProgress } from '../progress/events.js';
import { defaultCacheDir, positiveInt } from './options.js';

/**
 * The options that decide what a bundle holds and where it goes, one definition for `build` and `plan`: the same
 * command line plans what it would build.
 */
export function addBuildOptions(cmd: Command): Command {
  return cmd
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
    .option('--since <old>', 'write a delta: only what OLD (a bundle, or the .lock.yaml beside it) lacks; install it over OLD');
}

export const BUILD_ENVIRONMENT_HELP =
  '\nEnvironment: https_proxy, http_proxy, no_proxy (as curl reads them); NODE_EXTRA_CA_CERTS (a private CA for every host);\n' +
  'KS_BUNDLE_IDLE_TIMEOUT (seconds of silence before a request is retried, default 60); npm_config_registry (the runtime\'s registry).';

/** The parsed options of `addBuildOptions`, as the assemble layer takes them. */
export function planOptionsOf(o: Record<string, any>, http: HttpClient, signal: AbortSignal, onProgress: OnProgress): PlanOptions {
  return {
    manifestPath: o.manifest,
    out: o.output,
    compress: o.compress,
    cacheDir: o.cache,
    locked: !!o.locked,
    lockFile: o.lock,
    runtime: o.runtime,
    concurrency: o.concurrency,
    registryAuthFile: o.registryAuth,
    since: o.since,
    onProgress,
    http,
    npmRegistry: process.env.npm_config_registry || process.env.NPM_CONFIG_REGISTRY || undefined,
    signal,
  };
}
