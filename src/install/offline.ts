import { join } from 'node:path';
import { homedir } from 'node:os';
import { KsBundleError, ValidationError } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import type { Inventory } from '../nodes/inventory.js';
import type { InstallMode } from '../nodes/validate-inventory.js';
import { nodeTarget } from '../nodes/target.js';
import type { BundleInfo } from './bundle-info.js';
import type { HostCheck } from './preflight.js';
import { confFiles, firstMaster, loadInventory, openBundleSource, readConfText, unreadConfFiles, type BundleSource, type ConfFiles } from './context.js';
import { parseVars, type ParsedVars } from '../nodes/vars.js';
import { bundleInfo } from './bundle-info.js';
import type { BundleMeta } from '../bundle/meta.js';
import { planCluster, type ClusterPlan } from './cluster-vars.js';
import { StateFile } from './state.js';
import { localHost as mirrorLocalHost, localUrl } from '../mirror/address.js';
import { bundleSignatureCheck } from '../signature/bundle-signature.js';
import { readSiteConfig, SITE_CONFIG_FILE } from './site-config.js';
import type { CompletenessResult } from '../completeness/check.js';
import { runSteps } from './steps.js';
import { initSteps, installSteps } from './offline-steps.js';

export interface InstallOptions {
  bundle: string;
  /** The folder holding hosts.ini and vars.yml; the bundle folder's conf/ by default. */
  conf?: string;
  inventory?: string;
  vars?: string;
  /** Required unless only === 'init'. */
  mode?: InstallMode;
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
  /** How long to wait for ks-installer's result. */
  kubesphereTimeoutMs: number;
  /** A delta's base bundle; by default the base an earlier install unpacked in the data dir. */
  base?: string;
  /** A public key: the tarball's `.asc` must be its signature (read in the same pass as the checksums). */
  key?: string;
  /** The taskbox's settings file (SITE_CONFIG_FILE); its `signatureKey` makes a signature required. */
  siteConfigFile?: string;
  /** `init`: verify, unpack, mirror, taskbox only (scripts/InitInstaller.sh). */
  only?: 'init';
  confirm?: (summary: string) => Promise<boolean>;
  /** Neither --yes nor a terminal to ask on: refused (after the bundle path and the mode are checked). */
  unconfirmed?: boolean;
  onProgress: OnProgress;
  /** Tables and the banner, for a person. */
  print: (text: string) => void;
}

/** Everything the steps share: the inputs read up front, then what each step learns for the ones after it. */
export interface InstallContext {
  o: InstallOptions;
  source: BundleSource;
  conf: ConfFiles;
  inventory?: { inventory: Inventory; text: string };
  /** The signature check that rides verify's read, when a key asks for one. */
  signature?: Awaited<ReturnType<typeof bundleSignatureCheck>>;
  /** conf/vars.yml as written, and parsed (seed keys mapped). */
  vars?: { text: string; parsed: ParsedVars };
  /** The merged, checked vars and what follows from them; made again from the verified bundle by verify. */
  plan?: ClusterPlan;
  masterName?: string;
  /** The taskbox's name in the inventory (its ansible_connection=local host), else "taskbox". */
  taskboxName: string;
  completeness?: CompletenessResult;
  stateDir: string;
  knownHostsFile: string;
  /** The taskbox's address as the nodes reach it. */
  mirrorHost: string;
  mirrorUrl: string;
  /** The mirror as the installer reaches it on this machine. */
  mirrorLocalUrl: string;
  bundleDir: string;
  info?: BundleInfo;
  /** The verified bundle.yaml. */
  meta?: BundleMeta;
  unpacked?: { reused: boolean };
  missesBefore: number;
  ansiblePlaybook: string;
  hosts?: HostCheck[];
  confirmed: boolean;
}

export interface InstallOutcome {
  bundleDir: string;
  mirrorUrl: string;
}

/** `ks-bundle install --offline`: the steps of DESIGN.md as data (offline-steps.ts), each recorded when done. */
export async function installOffline(o: InstallOptions): Promise<InstallOutcome> {
  const ctx = await prepare(o);
  const state = await StateFile.open(ctx.stateDir, ctx.source.claimedSums);
  try {
    await runSteps(o.only === 'init' ? initSteps() : installSteps(), ctx, state, o.onProgress);
  } finally {
    await Promise.all((ctx.hosts ?? []).map((h) => h.session?.close().catch(() => {})));
  }
  return { bundleDir: ctx.bundleDir, mirrorUrl: ctx.mirrorUrl };
}

/** Every input checked before anything changes anywhere: the bundle path first, then the mode, then the conf. */
export async function prepare(o: InstallOptions): Promise<InstallContext> {
  const source = await openBundleSource(o.bundle);
  if (!o.mode && o.only !== 'init') throw new KsBundleError('USAGE', 'give the installation mode: --mode all-in-one or --mode multi-node');
  if (o.unconfirmed && o.only !== 'init') throw new KsBundleError('USAGE', 'install changes every node: confirm with --yes when there is no terminal to ask on');
  const site = await readSiteConfig(o.siteConfigFile ?? SITE_CONFIG_FILE);
  const key = o.key ?? site.signatureKey;
  if (key && source.isDir) {
    throw new KsBundleError('USAGE', `${o.bundle}: an unpacked folder has no signature to check, and ${o.key ? '--key asks for one' : `${o.siteConfigFile ?? SITE_CONFIG_FILE} requires one (signatureKey)`}`, {
      hint: 'The signature covers the tarball: run `bin/ks-bundle install --offline /path/to/BUNDLE.tar` (or its .parts) with BUNDLE.tar.asc beside it.',
    });
  }
  const signature = key ? await bundleSignatureCheck(source.path, key) : undefined;
  const conf = confFiles(source, o);
  // InitInstaller alone (the seed's offline appendix) needs neither the inventory nor the cluster vars.
  const inventory = o.only === 'init' ? undefined : await loadInventory(conf.inventory, o.mode!);
  const varsText = inventory ? await readConfText(conf.vars, 'cluster vars', '-c') : undefined;
  const vars = varsText === undefined ? undefined : { text: varsText, parsed: parseVars(varsText, conf.vars) };
  for (const f of inventory ? await unreadConfFiles(conf) : []) {
    o.onProgress({ type: 'log', level: 'warn', message: `${f}: not read by the install (only ${conf.inventory} and ${conf.vars} are)` });
  }
  const localHost = inventory && [...inventory.inventory.hosts.values()].find((h) => nodeTarget(h).local);
  const mirrorHost = o.mirrorAddress ?? (localHost ? nodeTarget(localHost).ip : inventory ? undefined : mirrorLocalHost(o.listen));
  if (!mirrorHost || mirrorHost === localHost?.name) {
    throw new KsBundleError('INVALID_INPUT', `${conf.inventory}: cannot tell the taskbox's address for the nodes`, {
      hint: 'Give the taskbox host `ansible_connection=local ip=<its address>` in [all], or pass --mirror-address.',
    });
  }
  const stateDir = join(o.dataDir, 'state', source.id);
  if (vars && source.isDir) {
    // Conf mistakes are said before a long verify. This reading of the folder only shapes that report: verify
    // plans again from the verified bytes before anything is used.
    const unverified = await source.bundle.unpack({ dataDir: o.dataDir, verify: false });
    await planCluster({ bundleDir: source.path, info: bundleInfo(unverified), parsed: vars.parsed, varsFile: conf.vars, mode: o.mode!, mirrorHost, port: o.port });
  } else if (vars?.parsed.problems.length) {
    throw new ValidationError(conf.vars, vars.parsed.problems, 'Edit the vars file; every problem above names its line.');
  }
  const bracket = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);
  return {
    o,
    source,
    conf,
    inventory,
    signature,
    vars,
    stateDir,
    knownHostsFile: o.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts'),
    mirrorHost,
    mirrorUrl: `http://${bracket(mirrorHost)}:${o.port}`,
    mirrorLocalUrl: localUrl(o.listen, o.port),
    bundleDir: source.isDir ? source.path : join(o.dataDir, source.id),
    missesBefore: 0,
    ansiblePlaybook: join(stateDir, 'venv', 'bin', 'ansible-playbook'),
    confirmed: !o.confirm,
    masterName: inventory ? firstMaster(inventory.inventory) : undefined,
    taskboxName: localHost?.name ?? 'taskbox',
  };
}
