import { Command, Option } from 'commander';
import { createInterface } from 'node:readline/promises';
import { installOffline } from '../install/offline.js';
import { KsBundleError } from '../errors.js';
import { createRenderer, progressMode } from './progress.js';
import { addListenOptions, defaultDataDir } from './options.js';

export function installCommand(): Command {
  const cmd = new Command('install')
    .description('Install the cluster from a bundle on the taskbox, entirely offline (what install.sh runs)')
    .argument('[bundle]', 'the unpacked bundle folder or its tarball', '.')
    .option('--offline', 'use only the bundle (the only mode; kept for the seed\'s command line)')
    .option('-i, --inventory <file>', 'Ansible INI inventory (default: <bundle>/conf/hosts.ini)')
    .option('-c, --vars <file>', 'cluster vars (default: <bundle>/conf/vars.yml)')
    .addOption(new Option('--mode <mode>', 'installation mode (install.sh asks when it is not given)').choices(['all-in-one', 'multi-node']))
    .option('-y, --yes', 'do not ask before changing the nodes')
    .option('--data-dir <dir>', 'where a tarball is unpacked and the install keeps its state', defaultDataDir());
  return addListenOptions(cmd)
    .option('--mirror-address <address>', 'the taskbox address the nodes reach the mirror at (default: the local host\'s ip in the inventory)')
    .option('--known-hosts <file>', 'SSH known_hosts to check node host keys against (default: ~/.ssh/known_hosts)')
    .option('--accept-new-host-keys', 'accept and record the key of a host seen for the first time (like ssh accept-new)')
    .option('--ignore-preflight', 'hardware below the minimum only warns')
    .option('--allow-missing', 'install even when the bundle lacks an image or file the install will ask for')
    .addOption(new Option('--only <steps>', 'run only some steps: init = verify, unpack, mirror, taskbox (InitInstaller.sh)').choices(['init']))
    .option('--key <public.asc>', 'require BUNDLE.asc beside the tarball (or its .parts) to be a signature by this key (exit 3 if not)')
    .option('--json', 'progress as JSON lines')
    .addHelpText(
      'after',
      [
        '',
        'A taskbox can require a signed bundle for every install: put `signatureKey: /path/to/vendor-public.asc` in',
        '/etc/ks-bundle/config.yaml (KS_BUNDLE_CONFIG names another file); installs then take the tarball, not a folder.',
        '',
        'Examples:',
        '  bin/ks-bundle install --offline . -i conf/hosts.ini -c conf/vars.yml --mode multi-node --yes',
        '  ks-bundle install --offline /media/usb/demo-0.1.0.tar --key vendor-public.asc --mode all-in-one --yes',
        '  bin/ks-bundle install --offline . --mode multi-node --listen 10.0.0.5 --mirror-address 10.0.0.5',
        '      (the mirror listens on 10.0.0.5 only; the installer and the nodes reach it there)',
      ].join('\n'),
    )
    .action(async (bundle: string, o) => {
      const renderer = createRenderer(progressMode(!!o.json));
      if (!o.mode && o.only !== 'init') throw new KsBundleError('USAGE', 'give the installation mode: --mode all-in-one or --mode multi-node');
      const interactive = !o.yes && process.stdin.isTTY;
      if (!o.yes && !interactive && o.only !== 'init') {
        throw new KsBundleError('USAGE', 'install changes every node: confirm with --yes when there is no terminal to ask on');
      }
      try {
        await installOffline({
          bundle,
          inventory: o.inventory,
          vars: o.vars,
          mode: o.mode,
          dataDir: o.dataDir,
          listen: o.listen,
          port: o.port,
          mirrorAddress: o.mirrorAddress,
          knownHostsFile: o.knownHosts,
          acceptNewHostKeys: !!o.acceptNewHostKeys,
          ignorePreflight: !!o.ignorePreflight,
          allowMissing: !!o.allowMissing,
          only: o.only,
          key: o.key,
          siteConfigFile: process.env.KS_BUNDLE_CONFIG || undefined,
          confirm: interactive ? ask : undefined,
          onProgress: renderer.onProgress,
          print: (t) => process.stdout.write(t + '\n'),
        });
      } finally {
        renderer.stop();
      }
    });
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
