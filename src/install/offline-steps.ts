import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KsBundleError } from '../errors.js';
import { LocalSession } from '../nodes/local.js';
import { nodeTarget } from '../nodes/target.js';
import { writeFileAtomic } from '../store/atomic.js';
import { checkBundleDir, enforce } from '../completeness/gate.js';
import { bundleInfo, type BundleInfo } from './bundle-info.js';
import { healthy, startMirrorService } from './mirror-service.js';
import { initTaskbox } from './taskbox.js';
import { preflight, preflightTable, type HostCheck } from './preflight.js';
import { wireNodes } from './wire.js';
import { runPlaybook, recapTable } from './cluster.js';
import { clusterBanner, formatMisses, lastMissSeq, missesSince } from './report.js';
import { digest } from './context.js';
import type { InstallContext } from './offline.js';
import type { Step } from './steps.js';
import { kubesphereStep } from './kubesphere-step.js';
import { planCluster } from './cluster-vars.js';
import { ansibleRangeWarning } from './ansible-range.js';
import { dumpVarsFile } from './vars-dump.js';

const TASKBOX = (c: InstallContext) => [c.taskboxName];
const allHosts = (c: InstallContext) => [...(c.inventory?.inventory.hosts.keys() ?? [])];
const NO_NODE_WIRED = "no node was wired (only the taskbox's own apt and pip point at the mirror)";

const info = (c: InstallContext): BundleInfo => {
  if (!c.info) throw new KsBundleError('FAILED', 'the bundle was not verified before this step');
  return c.info;
};

const verify: Step<InstallContext> = {
  id: 'verify',
  title: 'verify the bundle',
  hosts: TASKBOX,
  always: true,
  async run(c) {
    // A tarball is verified and unpacked in one pass (into a temporary folder, renamed when every byte matched); a
    // folder unpacked before is verified again, and a folder bundle where it is.
    const opened = await c.source.bundle.unpack({ dataDir: c.o.dataDir, onProgress: c.o.onProgress, check: c.signature, base: c.o.base });
    c.bundleDir = opened.dir;
    c.unpacked = { reused: opened.reused };
    c.meta = opened.meta;
    c.info = bundleInfo(opened);
    const detail = `every byte of ${c.source.path} matches SHA256SUMS${c.signature ? `, and its signature is by ${c.o.key ?? 'the site key'}` : ''}`;
    await planAndCheck(c);
    return { status: 'done', detail };
  },
};

/**
 * From the verified bundle: the merged vars and what follows from them, then the completeness check with the
 * settings the install will really use (the network plugin, storage and KubeSphere components of the user's vars).
 */
export async function planAndCheck(c: InstallContext): Promise<void> {
  const i = info(c);
  if (c.vars) {
    c.plan = await planCluster({ bundleDir: c.bundleDir, info: i, parsed: c.vars.parsed, varsFile: c.conf.vars, mode: c.o.mode!, mirrorHost: c.mirrorHost, port: c.o.port });
    for (const n of c.plan.notes) c.o.onProgress({ type: 'log', level: 'warn', message: n });
  }
  c.completeness = await checkBundleDir(c.bundleDir, c.meta!, { settings: c.plan?.settings, kubesphereComponents: c.plan?.kubesphere?.enabledComponents });
  enforce(c.completeness, c.bundleDir, c.o.allowMissing, c.o.onProgress);
  const range = await ansibleRangeWarning(c.bundleDir);
  if (range) c.o.onProgress({ type: 'log', level: 'warn', message: range });
}

const unpack: Step<InstallContext> = {
  id: 'unpack',
  title: 'unpack',
  hosts: TASKBOX,
  async run(c) {
    if (c.source.isDir) return { status: 'skipped', detail: `the bundle is a folder, used where it is: ${c.bundleDir}` };
    return { status: 'done', detail: c.unpacked?.reused ? `already unpacked from this bundle in ${c.bundleDir}; kept` : `into ${c.bundleDir}, in the same pass as verify` };
  },
};

const mirror: Step<InstallContext> = {
  id: 'mirror',
  title: 'start the mirror',
  hosts: TASKBOX,
  inputs: (c) => digest(c.mirrorUrl, c.o.listen, c.bundleDir),
  // Serving this bundle: after an upgrade the mirror of the release before still answers, and is replaced.
  stillDone: (c) => healthy(c.mirrorLocalUrl, c.meta?.sha256sums),
  async resume(c) {
    c.missesBefore = await lastMissSeq(c.mirrorLocalUrl);
  },
  async run(c) {
    const advertise = c.mirrorHost.includes(':') && !c.mirrorHost.startsWith('[') ? `[${c.mirrorHost}]` : c.mirrorHost;
    const m = await startMirrorService({ bundleDir: c.bundleDir, serves: c.meta!.sha256sums, stateDir: c.stateDir, listen: c.o.listen, port: c.o.port, advertise });
    c.missesBefore = await lastMissSeq(c.mirrorLocalUrl);
    return { status: 'done', detail: `${m.how === 'already running' ? 'already running' : `started (${m.how}${m.pid ? `, pid ${m.pid}` : ''})`}: ${c.mirrorUrl}, logs in ${m.logDir}` };
  },
};

const taskbox: Step<InstallContext> = {
  id: 'taskbox',
  title: "InitInstaller: the taskbox's apt and pip from the mirror, Ansible into a venv",
  hosts: TASKBOX,
  stillDone: async (c) => existsSync(c.ansiblePlaybook),
  async run(c) {
    const local = c.inventory && [...c.inventory.inventory.hosts.values()].find((h) => nodeTarget(h).local);
    const session = new LocalSession('taskbox', local ? { user: nodeTarget(local).becomeUser, password: nodeTarget(local).becomePassword } : {});
    // The taskbox is wired with the same URL as every node (wire does it again as a host of the inventory): with
    // 127.0.0.1 here and its address there, every run would flip its apt source and pip.conf back and forth.
    const t = await initTaskbox(session, info(c), { mirrorLocalUrl: c.mirrorUrl, stateDir: c.stateDir, onProgress: c.o.onProgress });
    return { status: 'done', detail: `${t.ansiblePlaybook} is ready` };
  },
};

/** Opens every host (again, on a rerun that skipped preflight) and fails naming the hosts that cannot be used. */
async function openHosts(c: InstallContext, print: boolean): Promise<HostCheck[]> {
  if (c.hosts) return c.hosts;
  const hosts = await preflight(c.inventory!.inventory, info(c), {
    hostKeys: { knownHostsFile: c.knownHostsFile, acceptNew: c.o.acceptNewHostKeys },
    ignoreHardware: c.o.ignorePreflight,
    mirrorUrl: c.mirrorUrl,
  });
  c.hosts = hosts;
  if (print) c.o.print(preflightTable(hosts));
  const failed = hosts.filter((h) => h.level === 'fail');
  if (failed.length) {
    throw new KsBundleError('FAILED', `preflight failed on ${failed.map((h) => h.name).join(', ')}; ${NO_NODE_WIRED}`, {
      hint: failed.some((h) => h.notes.some((n) => /host key/i.test(n)))
        ? 'Check the fingerprints shown above; accept first-time keys with --accept-new-host-keys.'
        : 'Fix what the table says and run the same command again. Hardware below the minimum can be accepted with --ignore-preflight.',
    });
  }
  return hosts;
}

async function confirmOnce(c: InstallContext, what: string): Promise<void> {
  if (c.confirmed) return;
  if (c.o.confirm && !(await c.o.confirm(what))) throw new KsBundleError('FAILED', `stopped at your request; ${NO_NODE_WIRED}`);
  c.confirmed = true;
}

const inventoryInputs = (c: InstallContext) => digest(c.inventory?.text ?? '', c.o.mode ?? '');

const preflightStep: Step<InstallContext> = {
  id: 'preflight',
  title: 'preflight every host',
  hosts: allHosts,
  inputs: (c) => digest(inventoryInputs(c), String(c.o.ignorePreflight)),
  async run(c) {
    const hosts = await openHosts(c, true);
    return { status: 'done', detail: `${hosts.length} host(s) ready` };
  },
};

const wire: Step<InstallContext> = {
  id: 'wire',
  title: 'wire every node to the mirror',
  hosts: allHosts,
  inputs: (c) => digest(inventoryInputs(c), c.mirrorUrl),
  async run(c) {
    const hosts = await openHosts(c, false);
    await confirmOnce(c, `Wire ${hosts.length} node(s) to ${c.mirrorUrl} and install the cluster?`);
    const wired = await wireNodes(hosts, info(c), c.mirrorUrl);
    for (const w of wired) c.o.print(`      ${w.host}: ${w.error ? `FAILED: ${w.error}` : `${w.changed} file(s) changed, ${w.unchanged} already right`}`);
    const bad = wired.filter((w) => w.error);
    if (bad.length) throw new KsBundleError('FAILED', `wiring failed on ${bad.map((w) => w.host).join(', ')}`, { hint: '`ks-bundle nodes restore -i <hosts.ini>` puts every changed file back.' });
    return { status: 'done', detail: `${wired.reduce((n, w) => n + w.changed, 0)} file(s) changed on ${wired.length} host(s)` };
  },
};

function varsText(c: InstallContext): string {
  if (!c.plan) throw new KsBundleError('FAILED', 'the vars were not planned before the cluster step');
  return dumpVarsFile(c.plan.extraVars);
}

const cluster: Step<InstallContext> = {
  id: 'cluster',
  title: 'the cluster, with ansible-playbook from the mirror',
  hosts: allHosts,
  inputs: (c) => digest(inventoryInputs(c), c.plan ? varsText(c) : ''),
  async run(c) {
    const entry = info(c).playbookEntry;
    if (!entry) return { status: 'skipped', detail: 'the bundle has no playbooks' };
    await confirmOnce(c, `Install the cluster on ${allHosts(c).length} node(s) from ${c.mirrorUrl}?`);
    // One file, every key once: the bundle's defaults, the user's vars over them, the mirror's over both.
    const varsPath = join(c.stateDir, 'cluster-vars.yml');
    await writeFileAtomic(varsPath, varsText(c), 0o600);
    const run = await runPlaybook({
      ansiblePlaybook: c.ansiblePlaybook,
      playbook: join(c.bundleDir, 'playbooks', entry),
      inventory: c.conf.inventory,
      extraVarFiles: [varsPath],
      knownHostsFile: c.knownHostsFile,
      logFile: join(c.stateDir, 'logs', 'ansible.log'),
      cwd: join(c.bundleDir, 'playbooks'),
      onProgress: c.o.onProgress,
    });
    c.o.print(recapTable(run.recap));
    return { status: 'done', detail: `ansible-playbook ${entry}: ${run.tasks} tasks` };
  },
};

const report: Step<InstallContext> = {
  id: 'report',
  title: 'report',
  hosts: (c) => [c.masterName ?? c.taskboxName],
  always: true,
  async run(c) {
    const hosts = c.masterName ? await openHosts(c, false) : [];
    const master = hosts.find((h) => h.name === c.masterName);
    const banner = await clusterBanner(master?.session, { kubesphere: !!c.plan?.kubesphere });
    c.o.print(banner ?? 'the playbooks installed no Kubernetes API to report on');
    const misses = await missesSince(c.mirrorLocalUrl, c.missesBefore);
    if (misses.count) {
      const shown = misses.count > misses.kept.length ? ` (the latest ${misses.kept.length} shown)` : '';
      throw new KsBundleError('FAILED', `the mirror could not serve ${misses.count} request(s) during the install${shown}:\n${formatMisses(misses.kept)}`, {
        hint: 'This bundle would have needed the internet: add what is listed to the manifest and build it again.',
      });
    }
    c.o.print('mirror miss log: empty (nothing was asked for that the bundle lacks)');
    return { status: 'done', detail: 'mirror miss log: empty' };
  },
};

/** InitInstaller.sh: the taskbox alone. */
export function initSteps(): Array<Step<InstallContext>> {
  return [verify, unpack, mirror, taskbox];
}

export function installSteps(): Array<Step<InstallContext>> {
  const ks = kubesphereStep({
    confirm: (c) => confirmOnce(c, `Install KubeSphere on the cluster from ${c.mirrorUrl}?`),
    openMaster: async (c) => {
      const master = (await openHosts(c, false)).find((h) => h.name === c.masterName);
      if (!master?.session) throw new KsBundleError('INVALID_INPUT', `${c.conf.inventory}: no control-plane host ([kube_control_plane] or [kube-master]) to run kubectl on`);
      return master.session;
    },
  });
  return [verify, unpack, mirror, taskbox, preflightStep, wire, cluster, ks, report];
}
