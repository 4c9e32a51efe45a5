import { Command } from 'commander';
import { addListenOptions, defaultDataDir } from './options.js';

export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('Serve a bundle as a read-only mirror: /v2/ registry, /apt/, /pypi/simple/, /files/ (foreground)')
    .argument('<bundle>', 'a bundle .tar, .tar.gz, its .parts file, or an unpacked bundle folder');
  return addListenOptions(cmd)
    .option('--data-dir <dir>', 'where a tarball is unpacked', defaultDataDir())
    .option('--log-dir <dir>', 'write access.log and misses.jsonl here (mode 0600, each rotated to .1 at 16 MiB)')
    .option('--pid-file <file>', 'write the server pid here')
    .option('--base <bundle>', "a delta's base bundle (default: the base unpacked in --data-dir by an earlier install)")
    .option('--no-verify', 'serve a folder without checking it first (the installer has just verified it); a tarball is always verified')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ks-bundle serve bundles/demo-0.1.0.tar                       # all addresses, port 5080',
        '  ks-bundle serve /var/lib/ks-bundle/demo-0.1.0 --listen 10.0.0.5 --port 8080',
        '  curl http://10.0.0.5:8080/healthz',
        '  ks-bundle serve bundles/demo-0.2.0-delta.tar --base bundles/demo-0.1.0.tar   # a delta over its base',
      ].join('\n'),
    )
    .action(async (bundle: string, o) => (await import('./serve-action.js')).serveAction(bundle, o));
}
