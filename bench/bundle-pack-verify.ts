// Benchmark: packing a ≥ 2 GB bundle against GNU `tar cf`, and `ks-bundle verify` of the tarball against
// `sha256sum -c` of the same files unpacked; peak RSS of both of ours. usage: npx tsx bench/bundle-pack-verify.ts [GiB]
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dropCaches, measure, ratio } from './lib/measure.js';

const GiB = Number(process.argv[2] ?? 2.1);
const repo = resolve(import.meta.dirname, '..');
const work = '/var/tmp/ksb-bench-bundle';
rmSync(work, { recursive: true, force: true });
const tree = join(work, 'tree');
mkdirSync(join(tree, 'repos/images/blobs/sha256'), { recursive: true });
mkdirSync(join(tree, 'repos/apt/pool'), { recursive: true });
mkdirSync(join(tree, 'repos/pip/files'), { recursive: true });

// Mixed sizes, like a real bundle: a few big layers, many medium debs, lots of small wheels and index files.
const kib = (gib: number) => gib * 1024 * 1024;
const plan: Array<[string, number, number]> = [
  ['repos/images/blobs/sha256/layer', 4, kib(GiB * 0.6) / 4],
  ['repos/apt/pool/pkg', 200, kib(GiB * 0.3) / 200],
  ['repos/pip/files/wheel', 2000, kib(GiB * 0.1) / 2000],
];
console.log(`making a ${GiB} GiB tree of mixed files in ${tree} …`);
for (const [prefix, count, kib] of plan) {
  for (let i = 0; i < count; i++) execFileSync('sh', ['-c', `head -c ${Math.round(kib)}K /dev/urandom > ${tree}/${prefix}-${i}.bin`]);
}
execFileSync('sh', ['-c', `cd ${tree} && find . -type f | sed 's|^./||' | sort | xargs -d '\\n' sha256sum > ${work}/SUMS`]);
execFileSync('npx', ['tsc', '-p', '.'], { cwd: repo, stdio: 'ignore' });

const cold = dropCaches();
const gnuTar = measure('tar', ['cf', join(work, 'gnu.tar'), '-C', tree, '.']);
rmSync(join(work, 'gnu.tar'));
dropCaches();
const ours = measure('node', [join(repo, 'bench/lib/pack-tree.mjs'), tree, join(work, 'SUMS'), join(work, 'ours.tar')], { cwd: repo });

const unpacked = join(work, 'unpacked');
mkdirSync(unpacked);
execFileSync('tar', ['xf', join(work, 'ours.tar'), '-C', unpacked]);
const root = join(unpacked, 'bench-1.0.0');
dropCaches();
const sha256sum = measure('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: root });
dropCaches();
const verify = measure('node', [join(repo, 'dist/cli/main.js'), 'verify', join(work, 'ours.tar')]);

const report = [
  `bundle: ${GiB} GiB in ${plan.reduce((n, p) => n + p[1], 0)} files; page cache ${cold ? 'dropped before each run' : 'NOT dropped (not root)'}`,
  `pack    ours ${ours.seconds.toFixed(2)} s (peak RSS ${ours.maxRssMiB.toFixed(0)} MiB) vs tar cf ${gnuTar.seconds.toFixed(2)} s → ${ratio(gnuTar.seconds, ours.seconds)} tar's speed (goal ≥ 0.8×)`,
  `verify  ours ${verify.seconds.toFixed(2)} s (peak RSS ${verify.maxRssMiB.toFixed(0)} MiB) vs sha256sum -c ${sha256sum.seconds.toFixed(2)} s → ${ratio(sha256sum.seconds, verify.seconds)} (goal ≥ 2×)`,
];
console.log(report.join('\n'));
rmSync(work, { recursive: true, force: true });
