/**
 * Our closure against apt's own solver, for the three package lists. Both see the same upstream (the
 * machine's Debian 12 mirror: bookworm, bookworm-updates, bookworm-security) and the same target: the dpkg status
 * of a debootstrap minbase tree. Every deb apt would download must be in our closure; whatever we add on top is
 * listed and must fall in a category explained below.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTarget, type TargetPlan } from '../../src/apt/plan.js';
import type { ArchiveChoices } from '../../src/apt/archives.js';
import { ContentStore } from '../../src/store/content-store.js';
import { ensureRootfs } from '../testbed/rootfs.js';
import { requireTools } from '../support/tools.js';
import { aptPrintUris, aptUpdate, hostApt, type HostApt } from './host-apt.js';
import { APT_TEST_STORE, LISTS, aptManifest, debianTarget, machineDebianSources } from './support.js';
import { testHttp } from '../support/http.js';
const http = testHttp();

let work: string;
let apt: HostApt;
let statusFile: string;
const releases = new Map() as ArchiveChoices;

beforeAll(async () => {
  requireTools('apt-get');
  const rootfs = await ensureRootfs();
  statusFile = join(rootfs, 'var/lib/dpkg/status');
  work = mkdtempSync(join(tmpdir(), 'ks-apt-oracle-'));
  apt = hostApt(join(work, 'apt'), machineDebianSources(), statusFile);
  await aptUpdate(apt);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const debName = (pool: string) => pool.slice(pool.lastIndexOf('/') + 1);

async function ours(packages: string[]): Promise<TargetPlan> {
  const manifest = aptManifest({ packages, targets: [debianTarget('amd64', { status: '' })] });
  const target = debianTarget('amd64', { status: statusFile });
  return planTarget(target, manifest.apt!, manifest.file, releases, { store: new ContentStore(APT_TEST_STORE), http });
}

describe('closure vs apt-get install --print-uris (baseline = minbase dpkg status)', () => {
  it.each(Object.entries(LISTS))('%s', async (_name, packages) => {
    const want = await aptPrintUris(apt, packages);
    const plan = await ours(packages);
    const have = new Set(plan.debs.map((d) => debName(d.pool)));
    expect(want.length).toBeGreaterThan(0);
    // 1. Everything apt would fetch, we carry.
    expect(want.filter((f) => !have.has(f))).toEqual([]);
    // 2. Extras, each explained. The only one allowed: a requested package the target already has, which we
    //    still carry because it was asked for (apt says "already the newest version" and fetches nothing).
    const wanted = new Set(want);
    const extras = plan.debs.filter((d) => !wanted.has(debName(d.pool)));
    const unexplained = extras.filter((d) => !plan.alreadyInstalled.includes(d.name));
    expect(unexplained.map((d) => `${d.name} <- ${d.chain.join(' -> ')}`)).toEqual([]);
    console.log(`${_name}: apt fetches ${want.length}, we carry ${plan.debs.length}; extras: ${extras.map((d) => d.name).join(' ') || 'none'}`);
  });
});
