// Benchmark: `ks-bundle verify` at the speed of the disk. The CLI as a taskbox runs it (dist/ks-bundle.mjs and its
// modules, which a bundle carries as bin/ks-bundle.mjs and bin/ks-bundle/) against `cat BUNDLE > /dev/null`, on a
// ≥ 1 GB bundle of mixed files, the bundle's own pages dropped from the page cache before every run (posix_fadvise
// DONTNEED on its files only: other jobs on the machine keep their cache). Five commands take turns, in a rotating
// order, for N rounds:
//   cat BUNDLE · verify BUNDLE · verify BUNDLE.parts (700 MiB parts) · verify BUNDLE --key public.asc · sha256 only
// (`sha256 only` is bench/lib/sha256-floor.mjs: node's start-up and the hashing of as many bytes, already in memory, on
// as many threads as verify uses; the floor of any verify here), and each is reported by its fastest round (the least
// disturbed by other jobs) and its median, as a ratio to cat's, with its peak RSS (GNU time %M; 1 MB = 10^6 bytes).
// Start-up: the fastest of 10 `verify` runs of a one-file bundle, and of 10 `--help` runs.
// With MB/s, every command (cat too) runs in a block-I/O cgroup that lets it read the disk at that rate (cgroup v1
// blkio.throttle.read_bps_device, or v2 io.max): a disk like a site's (a SATA SSD reads ~500 MB/s, NVMe 1–3 GB/s)
// on a VM whose disk answers from the host's cache faster than two cores can hash.
// usage: npm run build && npx tsx bench/verify-disk.ts [GiB=1.1] [rounds=8] [MB/s]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dropPages, median } from './lib/measure.js';
import { makeMixedBundle } from './lib/mixed-bundle.js';
import { defaultHashThreads } from '../src/store/hash-threads.js';

const GiB = Number(process.argv[2] ?? 1.1);
const rounds = Number(process.argv[3] ?? 8);
const diskMBps = process.argv[4] ? Number(process.argv[4]) : undefined;
const repo = resolve(import.meta.dirname, '..');
const cli = join(repo, 'dist/ks-bundle.mjs');
if (!existsSync(cli)) throw new Error('run `npm run build` first: the bench runs dist/ks-bundle.mjs');
const work = '/var/tmp/ksb-bench-verify-disk';
rmSync(work, { recursive: true, force: true });
const sh = (script: string) => execFileSync('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] }).toString();
const load = () => sh('uptime').trim().replace(/^.*load average:\s*/, 'load ');

mkdirSync(work, { recursive: true });
console.log(`${load()}; making a ${GiB} GiB bundle in ${work} …`);
const bundle = makeMixedBundle(work, 'bench', GiB);
const partsDir = join(work, 'parts');
mkdirSync(partsDir);
sh(`cp ${bundle} ${partsDir}/bench.tar`);
execFileSync('node', [cli, 'split', join(partsDir, 'bench.tar'), '--size', '700M'], { stdio: 'ignore' });
rmSync(join(partsDir, 'bench.tar'));
execFileSync('node', [cli, 'keygen', '--out', join(work, 'keys')], { stdio: 'ignore' });
execFileSync('node', [cli, 'sign', bundle, '--key', join(work, 'keys/private.asc')], { stdio: 'ignore' });
const tiny = makeMixedBundle(work, 'tiny', 0);
const partFiles = readdirSync(partsDir).filter((f) => /\.part\d+$/.test(f)).map((f) => join(partsDir, f));
// Written back once, so that DONTNEED can drop every page (dirty pages stay cached until written).
sh(`sync ${bundle} ${partFiles.join(' ')}`);

const size = Number(sh(`stat -c %s ${bundle}`));
const cached = (files: string[]) => Number(sh(`fincore -nb -o RES ${files.join(' ')} 2>/dev/null | awk '{s+=$1} END {print s+0}'`).trim());

/** A cgroup whose reads of the work folder's disk are held to `mbps`; commands join it before they exec. */
function throttle(mbps: number): string {
  const source = sh(`findmnt -no SOURCE --target ${work}`).trim();
  const disk = sh(`lsblk -no PKNAME ${source}`).trim() || source.replace(/^\/dev\//, '');
  const dev = sh(`cat /sys/class/block/${disk}/dev`).trim();
  const bps = Math.round(mbps * 1e6);
  if (existsSync('/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device')) {
    const group = '/sys/fs/cgroup/blkio/ksb-bench';
    mkdirSync(group, { recursive: true });
    sh(`echo '${dev} ${bps}' > ${group}/blkio.throttle.read_bps_device`);
    return group;
  }
  if (existsSync('/sys/fs/cgroup/cgroup.controllers') && /\bio\b/.test(sh('cat /sys/fs/cgroup/cgroup.controllers'))) {
    const group = '/sys/fs/cgroup/ksb-bench';
    sh('echo +io > /sys/fs/cgroup/cgroup.subtree_control');
    mkdirSync(group, { recursive: true });
    sh(`echo '${dev} rbps=${bps}' > ${group}/io.max`);
    return group;
  }
  throw new Error('no block-I/O cgroup controller here (cgroup v1 blkio or v2 io) to hold the disk to a rate');
}
const cgroup = diskMBps ? throttle(diskMBps) : undefined;

interface Run {
  seconds: number;
  rssMB: number;
  /** user + system CPU-seconds: steadier than wall time on a shared machine. */
  cpu: number;
}
function timed(files: string[], cmd: string, args: string[]): Run {
  dropPages(files);
  const left = cached(files);
  if (left > 1 << 20) throw new Error(`${left} bytes of ${files.join(' ')} still cached after DONTNEED`);
  const t0 = process.hrtime.bigint();
  const inGroup = cgroup ? ['sh', '-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$@"`, '_', cmd, ...args] : [cmd, ...args];
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', ...inGroup], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [kib, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds, rssMB: (kib! * 1024) / 1e6, cpu: user! + sys! };
}

const commands: Record<string, () => Run> = {
  cat: () => timed([bundle], 'sh', ['-c', `cat ${bundle} > /dev/null`]),
  verify: () => timed([bundle], 'node', [cli, 'verify', bundle, '--allow-missing']),
  'verify parts': () => timed(partFiles, 'node', [cli, 'verify', join(partsDir, 'bench.tar.parts'), '--allow-missing']),
  'verify --key': () => timed([bundle], 'node', [cli, 'verify', bundle, '--allow-missing', '--key', join(work, 'keys/public.asc')]),
  'sha256 only': () => timed([bundle], 'node', [join(repo, 'bench/lib/sha256-floor.mjs'), String(size), String(defaultHashThreads())]),
};
const names = Object.keys(commands);
const runs = new Map<string, Run[]>(names.map((n) => [n, []]));
const loads: string[] = [load()];
for (let r = 0; r < rounds; r++) {
  // A rotating order: no command always runs first, or always on the heels of the same one.
  for (let i = 0; i < names.length; i++) {
    const name = names[(r + i) % names.length]!;
    runs.get(name)!.push(commands[name]!());
  }
  process.stdout.write(`round ${r + 1}: ${names.map((n) => `${n} ${runs.get(n)!.at(-1)!.seconds.toFixed(2)} s`).join(', ')}\n`);
}
loads.push(load());

const startup: Run[] = [];
const help: Run[] = [];
const bare: Run[] = [];
for (let i = 0; i < 10; i++) {
  startup.push(timed([tiny], 'node', [cli, 'verify', tiny, '--allow-missing']));
  help.push(timed([tiny], 'node', [cli, '--help']));
  bare.push(timed([tiny], 'node', ['-e', '0']));
}
const fastest = (rs: Run[], k: 'seconds' | 'cpu') => Math.min(...rs.map((r) => r[k])).toFixed(3);

const best = (n: string) => Math.min(...runs.get(n)!.map((r) => r.seconds));
console.log(`\nbundle ${(size / 1e9).toFixed(2)} GB (${partFiles.length} parts of 700 MiB), ${rounds} rounds, pages dropped (posix_fadvise DONTNEED) before every run${diskMBps ? `, reads held to ${diskMBps} MB/s (${cgroup})` : ''}`);
console.log(`machine load before and after: ${loads.join(' / ')}`);
for (const n of names) {
  const rs = runs.get(n)!;
  const ratio = n === 'cat' ? '' : `  ${(best(n) / best('cat')).toFixed(2)}× cat (fastest), median of rounds ${median(rs.map((x, i) => x.seconds / runs.get('cat')![i]!.seconds)).toFixed(2)}×`;
  console.log(`${n.padEnd(13)} fastest ${best(n).toFixed(2)} s (${(size / best(n) / 1e9).toFixed(2)} GB/s), median ${median(rs.map((x) => x.seconds)).toFixed(2)} s, peak RSS ${Math.max(...rs.map((x) => x.rssMB)).toFixed(0)} MB${ratio}`);
}
console.log(`verify parts / verify: ${(best('verify parts') / best('verify')).toFixed(2)}× (fastest); verify --key / verify: ${(best('verify --key') / best('verify')).toFixed(2)}×`);
console.log(`verify / sha256 only: ${(best('verify') / best('sha256 only')).toFixed(2)}× (fastest): what reading, tar and the checks add to node and the hashing`);
console.log(`start-up (verify of a one-file bundle): fastest ${fastest(startup, 'seconds')} s wall, ${fastest(startup, 'cpu')} CPU-s; median ${median(startup.map((r) => r.seconds)).toFixed(3)} s (node -e 0: ${fastest(bare, 'seconds')} s, ${fastest(bare, 'cpu')} CPU-s)`);
console.log(`start-up (--help): fastest ${fastest(help, 'seconds')} s wall, ${fastest(help, 'cpu')} CPU-s; median ${median(help.map((r) => r.seconds)).toFixed(3)} s`);
for (const n of names) console.log(`${n.padEnd(13)} CPU-seconds: fastest ${Math.min(...runs.get(n)!.map((r) => r.cpu)).toFixed(2)}`);
rmSync(work, { recursive: true, force: true });
