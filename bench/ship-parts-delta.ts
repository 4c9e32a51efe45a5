// Benchmark for shipping to an air-gapped site:
//  1. `verify` of a split bundle (BUNDLE.parts, 700 MiB parts) against `verify` of the whole tarball, and `verify
//     --key` (the signature checked in the same read) against plain `verify`, in the same run, the files' pages dropped
//     from the page cache before each run (posix_fadvise DONTNEED), alternating who goes first; wall time ratio per
//     round, their median, peak RSS of each.
//  2. The size of a delta bundle against the full bundle of the same release, from the two small real bundles the
//     tests use (a deb added, an image tag moved, a file changed; real debs from this machine's Debian mirror).
// usage: npx tsx bench/ship-parts-delta.ts [GiB] [rounds]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildTwoBundles } from '../test/ship/two-bundles.js';
import { dropPages, measure, median, type Measured } from './lib/measure.js';

const GiB = Number(process.argv[2] ?? 2);
const rounds = Number(process.argv[3] ?? 3);
const repo = resolve(import.meta.dirname, '..');
const cli = join(repo, 'dist/cli/main.js');
const work = '/var/tmp/ksb-bench-ship';
rmSync(work, { recursive: true, force: true });
const tree = join(work, 'tree');
mkdirSync(join(tree, 'repos/images/blobs/sha256'), { recursive: true });
mkdirSync(join(tree, 'repos/apt/pool'), { recursive: true });
execFileSync('npx', ['tsc', '-p', '.'], { cwd: repo, stdio: 'ignore' });
console.log(`making a ${GiB} GiB bundle in ${work} …`);
const kib = Math.round((GiB * 1024 * 1024) / 40);
for (let i = 0; i < 40; i++) execFileSync('sh', ['-c', `head -c ${kib}K /dev/urandom > ${tree}/repos/${i < 8 ? 'images/blobs/sha256/layer' : 'apt/pool/pkg'}-${i}.bin`]);
execFileSync('sh', ['-c', `cd ${tree} && find . -type f | sed 's|^./||' | sort | xargs -d '\\n' sha256sum > ${work}/SUMS`]);
const whole = join(work, 'bench.tar');
execFileSync('node', [join(repo, 'bench/lib/pack-tree.mjs'), tree, join(work, 'SUMS'), whole], { cwd: repo });
rmSync(tree, { recursive: true, force: true });
// The parts sit in their own folder, the whole beside them: both are on the same disk.
const partsDir = join(work, 'parts');
mkdirSync(partsDir);
execFileSync('cp', [whole, join(partsDir, 'bench.tar')]);
execFileSync('node', [cli, 'split', join(partsDir, 'bench.tar'), '--size', '700M'], { stdio: 'ignore' });
rmSync(join(partsDir, 'bench.tar'));
execFileSync('node', [cli, 'keygen', '--out', join(work, 'keys')], { stdio: 'ignore' });
execFileSync('node', [cli, 'sign', whole, '--key', join(work, 'keys/private.asc')], { stdio: 'ignore' });

const partFiles = execFileSync('sh', ['-c', `ls ${partsDir}/bench.tar.part*`], { encoding: 'utf8' }).trim().split('\n');
execFileSync('sync', [whole, ...partFiles]);
const run = (args: string[]): Measured => {
  dropPages([whole, ...partFiles]);
  return measure('node', [cli, ...args]);
};
const pairs = (a: () => Measured, b: () => Measured) => {
  const out: Array<{ a: Measured; b: Measured }> = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      const x = a();
      out.push({ a: x, b: b() });
    } else {
      const y = b();
      out.push({ b: y, a: a() });
    }
  }
  return out;
};
const report = (what: string, aName: string, bName: string, runs: Array<{ a: Measured; b: Measured }>) => {
  const ratios = runs.map((r) => r.a.seconds / r.b.seconds);
  return [
    `${what}: median time ${aName} / ${bName} = ${median(ratios).toFixed(2)}; peak RSS ${aName} ${Math.max(...runs.map((r) => r.a.maxRssMiB)).toFixed(0)} MiB, ${bName} ${Math.max(...runs.map((r) => r.b.maxRssMiB)).toFixed(0)} MiB`,
    ...runs.map((r, i) => `  round ${i + 1}: ${aName} ${r.a.seconds.toFixed(2)} s, ${bName} ${r.b.seconds.toFixed(2)} s`),
  ].join('\n');
};
const parts = pairs(() => run(['verify', join(partsDir, 'bench.tar.parts'), '--allow-missing']), () => run(['verify', whole, '--allow-missing']));
const signed = pairs(() => run(['verify', whole, '--allow-missing', '--key', join(work, 'keys/public.asc')]), () => run(['verify', whole, '--allow-missing']));

console.log('building the two small real bundles and the delta …');
const dir = mkdtempSync(join(tmpdir(), 'ksb-bench-delta-'));
const two = await buildTwoBundles(dir);
const delta = join(dir, 'out', 'delta.tar');
const r = await two.buildNew(delta, ['--since', two.old]);
await two.close();
if (r.code !== 0) throw new Error(r.stderr);
const size = (f: string) => statSync(f).size;
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
console.log(
  [
    `bundle ${GiB} GiB, ${rounds} rounds; its pages dropped from the page cache before each run; ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`,
    report('verify from 700 MiB parts vs the whole', 'parts', 'whole', parts),
    report('verify --key vs verify', 'signed', 'plain', signed),
    `delta: ${mib(size(delta))} against the full bundle's ${mib(size(two.new))} (${((100 * size(delta)) / size(two.new)).toFixed(1)}%; the base is ${mib(size(two.old))})`,
  ].join('\n'),
);
rmSync(dir, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
