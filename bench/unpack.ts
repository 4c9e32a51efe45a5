// Benchmark: the unpack step of `install --offline` and `serve` (verify every byte and write the bundle out, one read)
// against GNU `tar xf` of the same tarball into the same filesystem, which checks nothing, and against `tar xf`
// followed by `sha256sum -c SHA256SUMS` (what a careful admin would run). The CLI runs as users run it: `serve BUNDLE
// --data-dir D`, timed from its start to the line saying it serves (the unpack is done and checked then), then
// stopped with SIGINT. Before every run the output is removed and written back (`sync`), and the bundle's pages are
// dropped from the page cache (posix_fadvise DONTNEED). Commands take turns in a rotating order; each is reported by
// its fastest round and its median, as a ratio to `tar xf`, with CPU-seconds and peak RSS (GNU time).
// With OTHER_CLI (a ks-bundle.mjs of another build, say the previous commit's dist), that build's unpack runs too.
// usage: npm run build && npx tsx bench/unpack.ts [GiB=1.1] [rounds=5] [OTHER_CLI]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dropPages, median } from './lib/measure.js';
import { makeMixedBundle } from './lib/mixed-bundle.js';

const GiB = Number(process.argv[2] ?? 1.1);
const rounds = Number(process.argv[3] ?? 5);
const other = process.argv[4] ? resolve(process.argv[4]) : undefined;
const repo = resolve(import.meta.dirname, '..');
const cli = join(repo, 'dist/ks-bundle.mjs');
if (!existsSync(cli)) throw new Error('run `npm run build` first: the bench runs dist/ks-bundle.mjs');
const work = '/var/tmp/ksb-bench-unpack';
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const out = join(work, 'out');
const loadavg = () => spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.split(' ').slice(0, 3).join(' ');

console.log(`load ${loadavg()}; making a ${GiB} GiB bundle in ${work} …`);
const bundle = makeMixedBundle(work, 'bench', GiB);
spawnSync('sync', [bundle]);

interface Run {
  seconds: number;
  cpu: number;
  rssMB: number;
}

function fresh(): void {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  // Write-back of the last run's files is not the next run's cost.
  spawnSync('sync');
  dropPages([bundle]);
}

/** GNU time's `%M %U %S` line from stderr. */
function usage(stderr: string): { cpu: number; rssMB: number } {
  const [kib, user, sys] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { cpu: user! + sys!, rssMB: (kib! * 1024) / 1e6 };
}

function tarRun(check: boolean): Run {
  fresh();
  const script = `tar xf ${bundle} -C ${out}${check ? ` && cd ${out}/bench-1.0.0 && sha256sum -c --quiet SHA256SUMS` : ''}`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', 'sh', '-c', script], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.slice(-2000)}`);
  return { seconds, ...usage(r.stderr) };
}

/** `serve` until it says it serves: the bundle is unpacked and every byte checked by then. */
function serveRun(cliPath: string): Promise<Run> {
  fresh();
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', 'node', cliPath, 'serve', bundle, '--data-dir', out, '--listen', '127.0.0.1', '--port', '47391'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seconds = 0;
    let said = '';
    const watch = (d: Buffer) => {
      said += d;
      if (!seconds && /serving /.test(said)) {
        seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        spawnSync('pkill', ['-INT', '-f', `${cliPath} serve ${bundle}`]);
      }
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.on('close', () => {
      if (!seconds) return reject(new Error(`serve did not start: ${said.slice(-2000)}`));
      resolvePromise({ seconds, ...usage(said) });
    });
  });
}

const commands: Record<string, () => Run | Promise<Run>> = {
  'tar xf': () => tarRun(false),
  'tar xf + sha256sum -c': () => tarRun(true),
  'ks-bundle unpack': () => serveRun(cli),
  ...(other ? { 'other build unpack': () => serveRun(other) } : {}),
};
const names = Object.keys(commands);
const runs = new Map<string, Run[]>(names.map((n) => [n, []]));
const loads = [loadavg()];
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(r + i) % names.length]!;
    runs.get(name)!.push(await commands[name]!());
  }
  console.log(`round ${r + 1}: ${names.map((n) => `${n} ${runs.get(n)!.at(-1)!.seconds.toFixed(2)} s`).join(', ')}`);
}
loads.push(loadavg());
const size = Number(spawnSync('stat', ['-c', '%s', bundle], { encoding: 'utf8' }).stdout);
const best = (n: string) => Math.min(...runs.get(n)!.map((x) => x.seconds));
console.log(`\nbundle ${(size / 1e9).toFixed(2)} GB, ${rounds} rounds, output removed and synced and the bundle's pages dropped before every run; load before/after ${loads.join(' / ')}`);
for (const n of names) {
  const rs = runs.get(n)!;
  const ratio = n === 'tar xf' ? '' : `  ${(best(n) / best('tar xf')).toFixed(2)}× tar xf (fastest), median of rounds ${median(rs.map((x, i) => x.seconds / runs.get('tar xf')![i]!.seconds)).toFixed(2)}×`;
  console.log(`${n.padEnd(22)} fastest ${best(n).toFixed(2)} s, median ${median(rs.map((x) => x.seconds)).toFixed(2)} s, CPU-s fastest ${Math.min(...rs.map((x) => x.cpu)).toFixed(2)}, peak RSS ${Math.max(...rs.map((x) => x.rssMB)).toFixed(0)} MB${ratio}`);
}
rmSync(work, { recursive: true, force: true });
