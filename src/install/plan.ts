import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatMissing } from '../completeness/check.js';
import { redactVars } from '../nodes/vars.js';
import { KsBundleError } from '../errors.js';
import { bundleInfo } from './bundle-info.js';
import { prepare, type InstallContext, type InstallOptions } from './offline.js';
import { installSteps, planAndCheck } from './offline-steps.js';

/** What `install --plan --json` prints: one document, the fields a change-review board asks for. */
export interface InstallPlan {
  bundle: { path: string; id: string };
  mode: string;
  mirror: { url: string; registry: string };
  steps: Array<{ id: string; title: string; hosts: string[] }>;
  ansible: { playbook: string | null; inventory: string; extraVars: Record<string, unknown>; mirrorOwned: string[] };
  storage: { defaultClass: string | null; classes: Array<{ name: string; provisioner: string; default: boolean }> };
  kubesphere: { manifests: string[]; clusterConfiguration: Record<string, unknown>; images: string[] } | null;
  images: { wanted: string[]; missing: string[] };
  /** Other things missing (files, unknown KubeSphere components), and notes on the conf (deprecated keys). */
  notes: string[];
}

/**
 * `install --plan`: everything the install would do, computed from the verified bundle and the conf, changing
 * nothing and contacting no node. A tarball is verified and unpacked into a temporary folder that is removed after.
 * Missing images or files are in the plan, and then an error unless `allowMissing`.
 */
export async function planInstall(o: InstallOptions): Promise<{ plan: InstallPlan; missing?: KsBundleError }> {
  const notes: string[] = [];
  const ctx = await prepare({ ...o, unconfirmed: false, allowMissing: true, onProgress: (e) => (e.type === 'log' && e.level === 'warn' ? notes.push(e.message) : o.onProgress(e)) });
  const temp = ctx.source.isDir ? undefined : await mkdtemp(join(tmpdir(), 'ks-bundle-plan-'));
  try {
    const opened = await ctx.source.bundle.unpack({ dataDir: temp ?? o.dataDir, onProgress: o.onProgress, check: ctx.signature, base: o.base, baseDataDir: o.dataDir });
    ctx.bundleDir = opened.dir;
    ctx.meta = opened.meta;
    ctx.info = bundleInfo(opened);
    await planAndCheck(ctx);
    const plan = document(ctx, notes);
    const missing = ctx.completeness?.missing ?? [];
    if (!missing.length || o.allowMissing) return { plan };
    const error = new KsBundleError('FAILED', `the install would ask for ${missing.length} thing(s) the bundle does not hold:\n${formatMissing(missing).map((l) => '  ' + l).join('\n')}`, {
      hint: 'The plan lists them. Add them to the manifest and build again, or pass --allow-missing to accept the gap.',
    });
    return { plan, missing: error };
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

function document(c: InstallContext, notes: string[]): InstallPlan {
  const plan = c.plan;
  const entry = c.info?.playbookEntry;
  const missing = c.completeness?.missing ?? [];
  return {
    bundle: { path: c.source.path, id: c.source.id },
    mode: c.o.mode!,
    mirror: { url: c.mirrorUrl, registry: plan?.registry ?? '' },
    steps: installSteps().map((s) => ({ id: s.id, title: s.title, hosts: s.hosts(c) })),
    ansible: {
      playbook: entry ? `playbooks/${entry}` : null,
      inventory: c.conf.inventory,
      extraVars: redactVars(plan?.extraVars ?? {}),
      mirrorOwned: plan?.mirrorOwned ?? [],
    },
    storage: {
      defaultClass: plan?.storage.defaultClass ?? null,
      classes: (plan?.storage.classes ?? []).map((k) => ({ name: k.name, provisioner: k.provisioner, default: k.default })),
    },
    kubesphere: plan?.kubesphere
      ? { manifests: plan.kubesphere.manifests, clusterConfiguration: plan.kubesphere.clusterConfiguration, images: plan.kubesphere.images.map((i) => i.pulled) }
      : null,
    images: { wanted: c.completeness?.wanted ?? [], missing: missing.flatMap((m) => (m.image ? [m.image] : [])) },
    notes,
  };
}
