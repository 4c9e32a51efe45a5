import { createInterface } from 'node:readline/promises';
import { installOffline, type InstallOptions } from '../install/offline.js';
import { planInstall } from '../install/plan.js';
import { renderPlan } from './install-plan.js';
import { createRenderer, progressMode } from './progress.js';

/** `ks-bundle install`, its command line parsed (cli/install.ts). */
export async function installAction(bundle: string, o: Record<string, any>): Promise<void> {
  const renderer = await createRenderer(o.json ? 'quiet' : progressMode(false));
  const jsonEvents = o.json && !o.plan ? await createRenderer('json') : undefined;
  const interactive = !o.yes && !!process.stdin.isTTY;
  const out = o.json ? process.stderr : process.stdout;
  const options: InstallOptions = {
    bundle,
    conf: o.conf,
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
    kubesphereTimeoutMs: o.kubesphereTimeout * 60_000,
    only: o.only,
    key: o.key,
    base: o.base,
    siteConfigFile: process.env.KS_BUNDLE_CONFIG || undefined,
    confirm: interactive ? ask : undefined,
    unconfirmed: !o.yes && !interactive,
    onProgress: jsonEvents?.onProgress ?? renderer.onProgress,
    print: (t) => void out.write(t + '\n'),
  };
  try {
    if (o.plan) {
      const { plan, missing } = await planInstall(options);
      process.stdout.write(o.json ? JSON.stringify(plan, null, 2) + '\n' : renderPlan(plan) + '\n');
      if (missing) throw missing;
    } else {
      await installOffline(options);
    }
  } finally {
    renderer.stop();
  }
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
