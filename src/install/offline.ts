import { readFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { KsBundleError, ValidationError } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import { openBundle } from '../bundle/open.js';
import { topDirName } from '../bundle/layout.js';
import { parseInventory, type Inventory } from '../nodes/inventory.js';
import { validateInventory, type InstallMode } from '../nodes/validate-inventory.js';
import { validateVars } from '../nodes/vars.js';
import { nodeTarget } from '../nodes/target.js';
import { LocalSession } from '../nodes/local.js';
import { writeFileAtomic } from '../store/atomic.js';
import { bundleInfo } from './bundle-info.js';
import { startMirrorService } from './mirror-service.js';
import { localHost as mirrorLocalHost } from '../mirror/address.js';
import { initTaskbox } from './taskbox.js';
import { preflight, preflightTable, type HostCheck } from './preflight.js';
import { wireNodes } from './wire.js';
import { runPlaybook, recapTable } from './cluster.js';
import { renderInstallVars } from './mirror-vars.js';
import { clusterBanner, formatMisses, lastMissSeq, missesSince } from './report.js';
import { StateFile } from './state.js';
import { checkBundleDir, enforce } from '../completeness/gate.js';
import { bundleSignatureCheck } from '../signature/bundle-signature.js';
import { readSiteConfig, SITE_CONFIG_FILE } from './site-config.js';

export interface InstallOptions {
  bundle: string;
  inventory?: string;
  vars?: string;
  /** Required unless only === 'init'. */
  mode: InstallMode;
  dataDir: string;
  listen: string;
  port: number;
  /** The taskbox address the nodes use for the mirror; the inventory's local host `ip` by default. */
  mirrorAddress?: string;
  knownHostsFile?: string;
  acceptNewHostKeys: boolean;
  ignorePreflight: boolean;
  /** Install even when the bundle lacks something the install will ask for. */
  allowMissing: boolean;
  /** A public key: the tarball's `.asc` must be its signature (read in the same pass as the checksums). */
  key?: string;
  /** The taskbox's settings file (SITE_CONFIG_FILE); its `signatureKey` makes a signature required. */
  siteConfigFile?: string;
  /** `init`: steps 1-4 only (scripts/InitInstaller.sh). */
  only?: 'init';
  confirm?: (summary: string) => Promise<boolean>;
  onProgress: OnProgress;
  print: (text: string) => void;
}

export interface InstallOutcome {
  bundleDir: string;
  mirrorUrl: string;
  hosts: HostCheck[];
  banner?: string;
}

/** `ks-bundle install --offline`: the steps of DESIGN.md in order, each idempotent, each recorded. */
export async function installOffline(o: InstallOptions): Promise<InstallOutcome> {
  const say = o.print;
  // 0. Inputs, before anything changes anywhere.
  const bundle = await openBundle(resolve(o.bundle));
  const isDir = bundle.kind === 'folder';
  const bundlePath = bundle.path;
  const inventoryFile = resolve(o.inventory ?? join(isDir ? bundlePath : '.', 'conf', 'hosts.ini'));
  const varsFile = resolve(o.vars ?? join(isDir ? bundlePath : '.', 'conf', 'vars.yml'));
  // InitInstaller alone (the seed's offline appendix) needs neither the inventory nor the cluster vars.
  const inventory = o.only === 'init' ? undefined : await loadInventory(inventoryFile, o.mode);
  if (inventory) await checkVars(varsFile, o.mode);

  const site = await readSiteConfig(o.siteConfigFile ?? SITE_CONFIG_FILE);
  const key = o.key ?? site.signatureKey;
  if (key && isDir) {
    throw new KsBundleError('USAGE', `${o.bundle}: an unpacked folder has no signature to check, and ${o.key ? '--key asks for one' : `${o.siteConfigFile ?? SITE_CONFIG_FILE} requires one (signatureKey)`}`, {
      hint: 'The signature covers the tarball: run `bin/ks-bundle install --offline /path/to/BUNDLE.tar` (or its .parts) with BUNDLE.tar.asc beside it.',
    });
  }
  const signature = key ? await bundleSignatureCheck(bundlePath, key) : undefined;

  // 1-2. Verify every byte (and the signature, in the same read), then unpack (a folder bundle is used where it is).
  say(`[1/8] verify the bundle${signature ? ` and its signature (${key})` : ''}`);
  if (!isDir) say(`[2/8] unpack under ${o.dataDir}`);
  const opened = await bundle.unpack({ dataDir: o.dataDir, onProgress: o.onProgress, check: signature });
  const bundleDir = opened.dir;
  if (!isDir) say(opened.reused ? `      already unpacked from this bundle in ${bundleDir}; verified again and kept` : `      into ${bundleDir}`);
  const info = bundleInfo(opened);
  enforce(await checkBundleDir(bundleDir, opened.meta), bundleDir, o.allowMissing, o.onProgress);
  const stateDir = join(o.dataDir, 'state', topDirName(info.name, info.version));
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const state = await StateFile.open(stateDir, info.sha256sums);

  // 3. The mirror.
  const localHost = inventory && [...inventory.hosts.values()].find((h) => nodeTarget(h).local);
  const mirrorHost = o.mirrorAddress ?? (localHost ? nodeTarget(localHost).ip : inventory ? undefined : mirrorLocalHost(o.listen));
  if (!mirrorHost || mirrorHost === localHost?.name) {
    throw new KsBundleError('INVALID_INPUT', `${inventoryFile}: cannot tell the taskbox's address for the nodes`, {
      hint: 'Give the taskbox host `ansible_connection=local ip=<its address>` in [all], or pass --mirror-address.',
    });
  }
  say(`[3/8] start the mirror on ${o.listen}:${o.port}`);
  const mirror = await startMirrorService({ bundleDir, stateDir, listen: o.listen, port: o.port, advertise: mirrorHost });
  const missesBefore = await lastMissSeq(mirror.localUrl);
  say(`      ${mirror.how === 'already running' ? 'already running' : `running (${mirror.how}${mirror.pid ? `, pid ${mirror.pid}` : ''})`}: ${mirror.url}, logs in ${mirror.logDir}`);

  // 4. InitInstaller on the taskbox.
  say('[4/8] InitInstaller: the taskbox\'s apt and pip from the mirror, Ansible into a venv');
  const taskboxSession = new LocalSession('taskbox', localHost ? { user: nodeTarget(localHost).becomeUser, password: nodeTarget(localHost).becomePassword } : {});
  // The taskbox is wired with the same URL as every node (step 6 wires it again as a host of the inventory): with
  // 127.0.0.1 here and its address there, every run would flip its apt source and pip.conf back and forth.
  const taskbox = await initTaskbox(taskboxSession, info, { mirrorLocalUrl: mirror.url, stateDir, onProgress: o.onProgress });
  await state.markDone('taskbox', taskbox.venv);
  if (!inventory) {
    say(`InitInstaller done: ${taskbox.ansiblePlaybook} is ready; the mirror serves ${mirror.url}`);
    return { bundleDir, mirrorUrl: mirror.url, hosts: [] };
  }

  // 5. Preflight, before any node changes.
  say(`[5/8] preflight ${inventory.hosts.size} host(s)`);
  const knownHostsFile = o.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts');
  const hosts = await preflight(inventory, info, { hostKeys: { knownHostsFile, acceptNew: o.acceptNewHostKeys }, ignoreHardware: o.ignorePreflight, mirrorUrl: mirror.url });
  try {
    say(preflightTable(hosts));
    const failed = hosts.filter((h) => h.level === 'fail');
    if (failed.length) {
      throw new KsBundleError('FAILED', `preflight failed on ${failed.map((h) => h.name).join(', ')}; no node was wired (only the taskbox's own apt and pip point at the mirror, from step 4)`, {
        hint: failed.some((h) => h.notes.some((n) => /host key/i.test(n)))
          ? 'Check the fingerprints shown above; accept first-time keys with --accept-new-host-keys.'
          : 'Fix what the table says and run the same command again. Hardware below the minimum can be accepted with --ignore-preflight.',
      });
    }
    if (o.confirm && !(await o.confirm(`Wire ${hosts.length} node(s) to ${mirror.url} and install the cluster?`))) {
      throw new KsBundleError('FAILED', "stopped at your request; no node was wired (only the taskbox's own apt and pip point at the mirror, from step 4)");
    }

    // 6. Every node's apt, pip, containerd and docker at the mirror.
    say('[6/8] wire every node to the mirror');
    const wired = await wireNodes(hosts, info, mirror.url);
    for (const w of wired) say(`      ${w.host}: ${w.error ? `FAILED: ${w.error}` : `${w.changed} file(s) changed, ${w.unchanged} already right`}`);
    const bad = wired.filter((w) => w.error);
    if (bad.length) throw new KsBundleError('FAILED', `wiring failed on ${bad.map((w) => w.host).join(', ')}`, { hint: '`ks-bundle nodes restore -i <hosts.ini>` puts every changed file back.' });

    // 7. The cluster, from the mirror.
    const varsPath = join(stateDir, 'mirror-vars.yml');
    await writeFileAtomic(varsPath, renderInstallVars(info, { host: mirrorHost, port: o.port }));
    if (state.isDone('cluster')) say('[7/8] playbooks: already run for this bundle; skipped');
    else if (!info.playbookEntry) say('[7/8] playbooks: the bundle has none; skipped');
    else {
      say(`[7/8] ansible-playbook ${info.playbookEntry}`);
      const run = await runPlaybook({
        ansiblePlaybook: taskbox.ansiblePlaybook,
        playbook: join(bundleDir, 'playbooks', info.playbookEntry),
        inventory: inventoryFile,
        extraVarFiles: [varsFile, varsPath],
        knownHostsFile,
        logFile: join(stateDir, 'logs', 'ansible.log'),
        cwd: join(bundleDir, 'playbooks'),
        onProgress: o.onProgress,
      });
      say(recapTable(run.recap));
      await state.markDone('cluster', `${run.tasks} tasks`);
    }

    // 8. Report.
    const masterName = inventory.groups.get('kube-master')?.hosts[0];
    const master = hosts.find((h) => h.name === masterName);
    const banner = await clusterBanner(master?.session, master?.target.ip ?? mirrorHost);
    say(`[8/8] ${banner ?? 'done: the playbooks installed no Kubernetes API to report on'}`);
    const misses = await missesSince(mirror.localUrl, missesBefore);
    if (misses.count) {
      const shown = misses.count > misses.kept.length ? ` (the latest ${misses.kept.length} shown)` : '';
      throw new KsBundleError('FAILED', `the mirror could not serve ${misses.count} request(s) during the install${shown}:\n${formatMisses(misses.kept)}`, {
        hint: 'This bundle would have needed the internet: add what is listed to the manifest and build it again.',
      });
    }
    say('mirror miss log: empty (nothing was asked for that the bundle lacks)');
    return { bundleDir, mirrorUrl: mirror.url, hosts, banner };
  } finally {
    await Promise.all(hosts.map((h) => h.session?.close().catch(() => {})));
  }
}

async function checkVars(varsFile: string, mode: InstallMode): Promise<void> {
  const text = await readFile(varsFile, 'utf8').catch(() => {
    throw new KsBundleError('INVALID_INPUT', `${varsFile}: cannot read the cluster vars`, { hint: 'Give it with -c, e.g. -c conf/vars.yml' });
  });
  const { problems } = validateVars(text, { mode, file: varsFile });
  if (problems.length) throw new ValidationError(varsFile, problems, 'Edit the vars file; every problem above names its line.');
}

async function loadInventory(file: string, mode: InstallMode): Promise<Inventory> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new KsBundleError('INVALID_INPUT', `${file}: cannot read the inventory`, { hint: 'Give it with -i, e.g. -i conf/hosts.ini' });
  });
  const inv = parseInventory(text, file);
  const problems = validateInventory(inv, { mode });
  if (problems.length) throw new ValidationError(file, problems, 'Edit the inventory; every problem above names its line.');
  return inv;
}
