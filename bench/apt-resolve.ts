/**
 * Benchmark: parse the full bookworm main amd64 Packages (+ updates + security) and resolve the largest package
 * list of the issue, against `apt-get install --print-uris` of host apt on the same indexes from a cold cache
 * (pkgcache.bin deleted before each run). Then, in a fresh process, peak RSS while resolving every target
 * (debian-12 amd64 + arm64, all three lists).
 *
 *   npx tsx bench/apt-resolve.ts            # both parts
 *   npx tsx bench/apt-resolve.ts --memory   # only the memory part (what the parent spawns)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baselineFromStatus } from '../src/apt/baseline.js';
import { PackageIndex } from '../src/apt/index.js';
import { planTarget } from '../src/apt/plan.js';
import { resolveClosure } from '../src/apt/resolve.js';
import { fetchPackages, fetchSuiteRelease } from '../src/apt/upstream.js';
import type { ArchiveChoices } from '../src/apt/archives.js';
import { ContentStore } from '../src/store/content-store.js';
import { ensureRootfs } from '../test/testbed/rootfs.js';
import { aptUpdate, hostApt } from '../test/apt/host-apt.js';
import { ALL_PACKAGES, APT_TEST_STORE, LISTS, aptManifest, debianTarget, machineDebianSources } from '../test/apt/support.js';
import { median } from './lib/measure.js';
import { createHttpClient } from '../src/net/client.js';
const http = createHttpClient({ idleMs: 60_000 });

const RUNS = 3;
const store = new ContentStore(APT_TEST_STORE);

async function memoryPart(): Promise<void> {
  const status = join(await ensureRootfs(), 'var/lib/dpkg/status');
  const releases: ArchiveChoices = new Map();
  const manifest = aptManifest({ packages: ALL_PACKAGES, targets: [] });
  let debs = 0;
  for (const t of [debianTarget('amd64', { status }), debianTarget('arm64', { status }), debianTarget('amd64'), debianTarget('arm64')]) {
    const plan = await planTarget(t, manifest.apt!, manifest.file, releases, { store, http });
    debs += plan.debs.length;
    if (process.env.KS_BENCH_VERBOSE) console.error(t.os, t.arch, 'rss MB', Math.round(process.memoryUsage().rss / 1e6), 'max', Math.round(process.resourceUsage().maxRSS / 1024));
  }
  console.log(JSON.stringify({ maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), debs }));
}

async function main(): Promise<void> {
  if (process.argv.includes('--memory')) return memoryPart();
  const sources = machineDebianSources();
  const statusFile = join(await ensureRootfs(), 'var/lib/dpkg/status');
  // The same indexes for both: ours from the content store (verified), apt's from its own update just before.
  const files: string[] = [];
  for (const s of sources) {
    for (const suite of s.suites) {
      const rel = await fetchSuiteRelease(s, suite, { store, http });
      const got = await fetchPackages(rel, 'main', 'amd64', { store, http });
      if (got) files.push(got.blob.path);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'ks-apt-bench-'));
  const apt = hostApt(dir, sources, statusFile);
  await aptUpdate(apt);
  const list = LISTS.storage;
  const oursMs: number[] = [];
  const aptMs: number[] = [];
  let closure = 0;
  let stanzas = 0;
  for (let i = 0; i < RUNS; i++) {
    rmSync(join(dir, 'cache/pkgcache.bin'), { force: true });
    rmSync(join(dir, 'cache/srcpkgcache.bin'), { force: true });
    let t0 = performance.now();
    const r = spawnSync('apt-get', [...apt.args, '-q', '-y', '--print-uris', '--no-install-recommends', 'install', ...list], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    aptMs.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(r.stderr);

    t0 = performance.now();
    const index = new PackageIndex('amd64');
    for (const f of files) stanzas = index.addPackagesBytes(await readFile(f), f);
    const baseline = baselineFromStatus(readFileSync(statusFile, 'utf8'), 'amd64');
    closure = resolveClosure(index, list, { baseline }).selected.length;
    oursMs.push(performance.now() - t0);
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`list: ${list.join(' ')}; closure ${closure} packages; ${index_size(files)} MB of Packages`);
  console.log(`ours (read + parse all indexes + closure, in process): median ${median(oursMs).toFixed(0)} ms  [${oursMs.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`apt-get install --print-uris (cold pkgcache, process):  median ${median(aptMs).toFixed(0)} ms  [${aptMs.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`ratio ours/apt: ${(median(oursMs) / median(aptMs)).toFixed(2)}x (goal <= 1x)`);
  void stanzas;
  const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--memory'], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  const mem = JSON.parse(child.stdout.trim().split('\n').pop()!) as { maxRssMB: number; debs: number };
  console.log(`peak RSS resolving all targets (debian-12 amd64+arm64, status and none baselines): ${mem.maxRssMB} MB (goal < 300 MB)`);
}

function index_size(files: string[]): string {
  let n = 0;
  for (const f of files) n += readFileSync(f).length;
  return (n / 1e6).toFixed(1);
}

await main();
