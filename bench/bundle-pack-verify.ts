// Benchmark: packing a ≥ 2 GB bundle against GNU `tar cf`, and `ks-bundle verify` of the tarball against
// `sha256sum -c` of the same files unpacked; peak RSS of both of ours. Ours and the peer alternate for several
// rounds, page cache dropped before each run, and the ratio of each round is reported with their median: on this
// machine the same command's time varies by 2× from run to run, so a single pair proves little.
// usage: npx tsx bench/bundle-pack-verify.ts [GiB] [rounds]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dropCaches, measure, median, type Measured } from './lib/measure.js';

const GiB = Number(process.argv[2] ?? 2.1);
const rounds = Number(process.argv[3] ?? 5);
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

const ours = join(work, 'ours.tar');
const gnu = join(work, 'gnu.tar');
const unpacked = join(work, 'unpacked');
let cold = true;
const cleanRun = (cmd: string, args: string[], cwd?: string): Measured => {
  // Let the last run's writeback and deletes finish first, so no run pays for the one before it.
  execFileSync('sh', ['-c', 'sync && sleep 2']);
  cold = dropCaches() && cold;
  return measure(cmd, args, { cwd });
};
// Both outputs go before every run: a run that found the other's 2 GB output still on disk was up to 2× slower.
const clearOutputs = () => [ours, gnu].forEach((f) => rmSync(f, { force: true }));
const pack = () => {
  clearOutputs();
  return cleanRun('node', [join(repo, 'bench/lib/pack-tree.mjs'), tree, join(work, 'SUMS'), ours], repo);
};
const tarCf = () => {
  clearOutputs();
  return cleanRun('tar', ['cf', gnu, '-C', tree, '.']);
};

const packRounds: Array<{ ours: Measured; peer: Measured }> = [];
for (let r = 0; r < rounds; r++) {
  // Alternate who goes first, so neither always runs on the heels of the other's writeback.
  if (r % 2 === 0) packRounds.push({ peer: tarCf(), ours: pack() });
  else packRounds.push({ ours: pack(), peer: tarCf() });
}

if (!existsSync(ours)) pack();
mkdirSync(unpacked);
execFileSync('tar', ['xf', ours, '-C', unpacked]);
const root = join(unpacked, 'bench-1.0.0');
const verify = () => cleanRun('node', [join(repo, 'dist/cli/main.js'), 'verify', ours]);
const sha256sum = () => cleanRun('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], root);
const verifyRounds: Array<{ ours: Measured; peer: Measured }> = [];
for (let r = 0; r < rounds; r++) {
  if (r % 2 === 0) verifyRounds.push({ peer: sha256sum(), ours: verify() });
  else verifyRounds.push({ ours: verify(), peer: sha256sum() });
}

const summary = (what: string, peerName: string, goal: string, runs: Array<{ ours: Measured; peer: Measured }>) => {
  const ratios = runs.map((r) => r.peer.seconds / r.ours.seconds);
  const lines = runs.map((r, i) => `  round ${i + 1}: ours ${r.ours.seconds.toFixed(2)} s vs ${peerName} ${r.peer.seconds.toFixed(2)} s → ${ratios[i]!.toFixed(2)}×`);
  const rss = Math.max(...runs.map((r) => r.ours.maxRssMiB));
  return [`${what}: median ${median(ratios).toFixed(2)}× ${peerName}'s speed (goal ${goal}), our peak RSS ${rss.toFixed(0)} MiB`, ...lines].join('\n');
};
console.log(
  [
    `bundle: ${GiB} GiB in ${plan.reduce((n, p) => n + p[1], 0)} files, ${rounds} rounds; page cache ${cold ? 'dropped before each run' : 'NOT dropped (not root)'}`,
    summary('pack', 'tar cf', '≥ 0.8×', packRounds),
    summary('verify', 'sha256sum -c', '≥ 2×', verifyRounds),
  ].join('\n'),
);
rmSync(work, { recursive: true, force: true });
