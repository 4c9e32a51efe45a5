import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IntegrityError, KsBundleError, ValidationError, formatProblem } from '../errors.js';
import { openBundle, type Bundle } from '../bundle/open.js';
import { parseBundleMeta } from '../bundle/meta.js';
import { BUNDLE_YAML, topDirName } from '../bundle/layout.js';
import { groupHosts, parseInventory, type Inventory } from '../nodes/inventory.js';
import { validateInventory, type InstallMode } from '../nodes/validate-inventory.js';

/** Where the install reads its configuration: the bundle folder's conf/ (or --conf), with -i and -c overriding. */
export interface ConfFiles {
  dir: string;
  inventory: string;
  vars: string;
}

/** The bundle as given on the command line, checked to exist before anything else is said. */
export interface BundleSource {
  bundle: Bundle;
  path: string;
  isDir: boolean;
  /** name-version from bundle.yaml before verification, each checked as one path component: names the state folder. */
  id: string;
  /** The SHA256SUMS digest bundle.yaml claims; verify proves it or fails. */
  claimedSums: string;
}

export async function openBundleSource(given: string): Promise<BundleSource> {
  const bundle = await openBundle(resolve(given));
  const text = (await bundle.peek([BUNDLE_YAML])).get(BUNDLE_YAML);
  if (text === undefined) throw new IntegrityError(`${given}: not a ks-bundle bundle (no ${BUNDLE_YAML})`, { hint: 'Give the unpacked bundle folder or its .tar file.' });
  const parsed = parseBundleMeta(text, `${given}:${BUNDLE_YAML}`);
  if (!parsed.meta) throw new IntegrityError(`${given}: ${BUNDLE_YAML} is not valid\n${parsed.problems.map((p) => '  ' + formatProblem(p)).join('\n')}`);
  return { bundle, path: bundle.path, isDir: bundle.kind === 'folder', id: topDirName(parsed.meta.name, parsed.meta.version), claimedSums: parsed.meta.sha256sums };
}

export function confFiles(source: BundleSource, opts: { conf?: string; inventory?: string; vars?: string }): ConfFiles {
  const dir = resolve(opts.conf ?? join(source.isDir ? source.path : '.', 'conf'));
  return { dir, inventory: resolve(opts.inventory ?? join(dir, 'hosts.ini')), vars: resolve(opts.vars ?? join(dir, 'vars.yml')) };
}

/** Files in conf/ that the install does not read: said, so a user does not think an edit there counts. */
export async function unreadConfFiles(conf: ConfFiles): Promise<string[]> {
  const names = await readdir(conf.dir).catch(() => [] as string[]);
  const read = new Set([conf.inventory, conf.vars]);
  return names.filter((n) => !n.endsWith('.example') && !read.has(join(conf.dir, n))).map((n) => join(conf.dir, n)).sort();
}

export async function readConfText(file: string, what: string, flag: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => {
    throw new KsBundleError('INVALID_INPUT', `${file}: cannot read the ${what}`, { hint: `Give it with ${flag}, or put it in the bundle's conf/ folder (--conf DIR for another folder).` });
  });
}

export async function loadInventory(file: string, mode: InstallMode): Promise<{ inventory: Inventory; text: string }> {
  const text = await readConfText(file, 'inventory', '-i');
  const inventory = parseInventory(text, file);
  const problems = validateInventory(inventory, { mode });
  if (problems.length) throw new ValidationError(file, problems, 'Edit the inventory; every problem above names its line.');
  return { inventory, text };
}

export function digest(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** The first control-plane host, where kubectl runs: kubespray's group name, or the seed's older one. */
export function firstMaster(inv: Inventory): string | undefined {
  return groupHosts(inv, 'kube_control_plane')[0] ?? groupHosts(inv, 'kube-master')[0];
}
