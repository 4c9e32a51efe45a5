import { Command, InvalidArgumentError, Option } from 'commander';
import { addListenOptions, defaultDataDir } from './options.js';

export function installCommand(): Command {
  const cmd = new Command('install')
    .description('Install the cluster from a bundle on the taskbox, entirely offline (what install.sh runs)')
    .argument('[bundle]', 'the unpacked bundle folder or its tarball', '.')
    .option('--offline', 'use only the bundle (the only mode; kept for the seed\'s command line)')
    .option('--conf <dir>', 'the folder with hosts.ini and vars.yml (default: <bundle>/conf, or ./conf for a tarball)')
    .option('-i, --inventory <file>', 'Ansible INI inventory (default: <conf>/hosts.ini)')
    .option('-c, --vars <file>', 'cluster vars (default: <conf>/vars.yml)')
    .addOption(new Option('--mode <mode>', 'installation mode (install.sh asks when it is not given)').choices(['all-in-one', 'multi-node']))
    .option('-y, --yes', 'do not ask before changing the nodes')
    .option('--data-dir <dir>', 'where a tarball is unpacked and the install keeps its state', defaultDataDir());
  return addListenOptions(cmd)
    .option('--mirror-address <address>', 'the taskbox address the nodes reach the mirror at (default: the local host\'s ip in the inventory)')
    .option('--known-hosts <file>', 'SSH known_hosts to check node host keys against (default: ~/.ssh/known_hosts)')
    .option('--accept-new-host-keys', 'accept and record the key of a host seen for the first time (like ssh accept-new)')
    .option('--ignore-preflight', 'hardware below the minimum only warns')
    .option('--allow-missing', 'install even when the bundle lacks an image or file the install will ask for')
    .option('--kubesphere-timeout <minutes>', 'how long to wait for ks-installer\'s result', minutes, 60)
    .addOption(new Option('--only <steps>', 'run only some steps: init = verify, unpack, mirror, taskbox (InitInstaller.sh)').choices(['init']))
    .option('--base <bundle>', "a delta's base bundle (default: the base an earlier install unpacked in --data-dir)")
    .option('--key <public.asc>', 'require BUNDLE.asc beside the tarball (or its .parts) to be a signature by this key (exit 3 if not)')
    .option('--plan', 'change nothing and contact no node: verify the bundle, read the conf, print every step with its hosts, the vars for ansible-playbook, the storage classes, the ClusterConfiguration and the images')
    .option('--json', 'with --plan: one JSON document on stdout. Otherwise stdout is JSON lines only: {"type":"step","id":…,"status":"running"|"done"|"skipped"|"failed"} and progress events; tables go to stderr')
    .addHelpText(
      'after',
      [
        '',
        'Steps, in order (each recorded when done; a rerun carries on at the first step not done):',
        '  verify, unpack, mirror, taskbox, preflight, wire, cluster, kubesphere, report',
        '',
        'A taskbox can require a signed bundle for every install: put `signatureKey: /path/to/vendor-public.asc` in',
        '/etc/ks-bundle/config.yaml (KS_BUNDLE_CONFIG names another file); installs then take the tarball, not a folder.',
        '',
        'Examples:',
        '  bin/ks-bundle install --offline . -i conf/hosts.ini -c conf/vars.yml --mode multi-node --yes',
        '  bin/ks-bundle install --offline . --plan --json --mode multi-node > plan.json',
        '  ks-bundle install --offline /media/usb/demo-0.1.0.tar --key vendor-public.asc --mode all-in-one --yes',
        '  bin/ks-bundle install --offline . --mode multi-node --listen 10.0.0.5 --mirror-address 10.0.0.5',
        '      (the mirror listens on 10.0.0.5 only; the installer and the nodes reach it there)',
      ].join('\n'),
    )
    .action(async (bundle: string, o) => (await import('./install-action.js')).installAction(bundle, o));
}

function minutes(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of minutes above 0');
  return n;
}
