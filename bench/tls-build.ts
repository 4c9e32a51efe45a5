/**
 * End to end over TLS, as users meet registries: `ks-bundle build` (the bin of package.json, dist/ks-bundle.mjs) against its peers on the same
 * data in the same run, alternating who goes first, median of the per-round ratios.
 *
 * A docker-registry listens on 127.0.0.77:443 with a certificate from a private CA for docker.io, registry-1.docker.io,
 * registry.k8s.io and quay.io; every command runs in a mount namespace whose /etc/hosts sends those names there
 * (the machine's /etc/hosts is untouched), trusting the CA by NODE_EXTRA_CA_CERTS (ours), --src-cert-dir (skopeo) and
 * --cacert (curl). Six images of ≈610 MB unique: one 520 MB base layer under all six, and a 16 MB layer each.
 *
 *   cold     build of the six images, empty cache (the runtime, this machine's node, is seeded), tarball output,
 *            vs `skopeo copy --all` of each into one OCI layout                       goal ≤ 0.7× its time
 *   blob     what the 520 MB base adds to a one-image build (cold minus the same build with the base cached),
 *            vs `curl --http1.1` of the same blob URL                               goal ≤ 1.15× its time
 *   pack     a second build, warm cache, output removed, vs `tar cf` of the unpacked bundle
 *                                                                                    goal ≥ 1.0× its speed
 *   rss      peak RSS of the cold build (GNU time %M)                                goal < 200 MB
 *   json     lines of the cold build's --json output                                goal ≤ 10×s + artifacts + 20
 *   empty    a warm build of a manifest that names nothing (the bundle holds the runtime), output removed:
 *            wall and CPU-seconds                                                    goal a few tenths of a second
 *
 * Needs root (unshare, mount). Run: npm run build && npx tsx bench/tls-build.ts [rounds] [--only=cold,blob,pack,empty]
 * (`--only` runs those measurements alone; the pack rounds then fill their cache with one untimed cold build).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
// What `npx ks-bundle` runs (package.json's bin): the bundled CLI.
import { CLI_BUNDLED as CLI } from '../test/support/cli.js';
import { startRegistry } from '../test/images/support.js';
import { makeCa, makeServerCert } from '../test/support/tls-certs.js';
import { median } from './lib/measure.js';
import { writeJsonBlob, writeRandomBlob } from './images-common.js';

const run = promisify(execFile);
const MB = 1 << 20;
const args = process.argv.slice(2);
const rounds = Number(args.find((a) => !a.startsWith('--')) ?? 3);
const PARTS = ['cold', 'blob', 'pack', 'empty'] as const;
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = new Set(onlyArg ? onlyArg.slice('--only='.length).split(',') : PARTS);
for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: ${p} is none of ${PARTS.join(', ')}`);
const ADDR = '127.0.0.77';
const NAMES = ['docker.io', 'registry-1.docker.io', 'registry.k8s.io', 'quay.io'];
const root = mkdtempSync('/var/tmp/ksb-bench-tls-');

/** `cmd args` inside a private mount namespace whose /etc/hosts sends the registry names to ADDR. */
async function inNs(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ seconds: number; rssMB: number; cpu: number; stdout: string }> {
  const t0 = process.hrtime.bigint();
  const { stdout, stderr } = await run(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', join(root, 'hosts'), '/usr/bin/time', '-f', '%M %U %S', cmd, ...args],
    { env: { ...process.env, ...env }, maxBuffer: 256 << 20 },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const [kb, user, sys] = stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  return { seconds, rssMB: (kb * 1024) / 1e6, cpu: user + sys, stdout };
}

const say = (s: string) => console.log(s);

// The data: one OCI layout, pushed with skopeo under three registry names' repositories.
const pki = join(root, 'pki');
mkdirSync(pki);
const ca = makeCa(pki, 'ca');
const cert = makeServerCert(pki, ca, NAMES);
mkdirSync(join(root, 'certs.d'));
execFileSync('cp', [ca.cert, join(root, 'certs.d', 'ca.crt')]);
writeFileSync(join(root, 'hosts'), `127.0.0.1 localhost\n${ADDR} ${NAMES.join(' ')}\n`);
const layout = join(root, 'layout');
const blobs = join(layout, 'blobs/sha256');
mkdirSync(blobs, { recursive: true });
writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const base = await writeRandomBlob(blobs, 520 * MB);
let unique = base.size;
const images = [
  { ref: 'docker.io/library/app0:1', repo: 'library/app0' },
  { ref: 'docker.io/library/app1:1', repo: 'library/app1' },
  { ref: 'registry.k8s.io/bench/app2:1', repo: 'bench/app2' },
  { ref: 'registry.k8s.io/bench/app3:1', repo: 'bench/app3' },
  { ref: 'quay.io/bench/app4:1', repo: 'bench/app4' },
  { ref: 'quay.io/bench/app5:1', repo: 'bench/app5' },
];
const index: unknown[] = [];
for (let i = 0; i < images.length; i++) {
  const own = await writeRandomBlob(blobs, 16 * MB);
  unique += own.size;
  const config = writeJsonBlob(blobs, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [base.digest, own.digest] }, config: {}, n: i });
  const manifest = writeJsonBlob(blobs, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: LAYER, ...base }, { mediaType: LAYER, ...own }] });
  index.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': `img${i}` } });
}
writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: index }));
const registry = await startRegistry(join(root, 'registry'), undefined, { certificate: cert.cert, key: cert.key }, `${ADDR}:443`);
try {
  for (let i = 0; i < images.length; i++) {
    await run('skopeo', ['copy', '--all', '--quiet', '--dest-tls-verify=false', `oci:${layout}:img${i}`, `docker://${ADDR}:443/${images[i]!.repo}:1`]);
  }
  rmSync(layout, { recursive: true, force: true });
  const manifest = (name: string, refs: string[]) => {
    const file = join(root, `${name}.yaml`);
    writeFileSync(file, `apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: ${name}, version: 1.0.0}\nspec:\n  targets: [{os: debian-12, arch: amd64}]\n  runtime: {source: local}\n  images:\n${refs.map((r) => `    - ${r}`).join('\n')}\n`);
    return file;
  };
  const all = manifest('tls6', images.map((i) => i.ref));
  const one = manifest('tls1', [images[0]!.ref]);
  const env = { NODE_EXTRA_CA_CERTS: ca.cert, https_proxy: '', HTTPS_PROXY: '', no_proxy: '', NO_PROXY: '' };
  // A cache holding only the runtime (this machine's node): both sides then move only the images.
  const seed = join(root, 'seed');
  await inNs(process.execPath, [CLI, 'build', '-m', manifest('seed', []), '-o', join(root, 'seed.tar'), '--cache', seed], env);
  const cache = (name: string) => {
    const dir = join(root, name);
    rmSync(dir, { recursive: true, force: true });
    execFileSync('cp', ['-al', seed, dir]);
    return dir;
  };
  const build = async (m: string, c: string, out: string, extra: string[] = []) => inNs(process.execPath, [CLI, 'build', '-m', m, '-o', out, '--cache', c, ...extra], env);
  const skopeo = async (dest: string) => {
    const t0 = process.hrtime.bigint();
    let cpu = 0;
    for (let i = 0; i < images.length; i++) cpu += (await inNs('skopeo', ['copy', '--all', '--quiet', '--src-cert-dir', join(root, 'certs.d'), `docker://${images[i]!.ref}`, `oci:${dest}:img${i}`])).cpu;
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu };
  };
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  say(`load average at the start: ${load()}`);
  say(`${images.length} images, ${(unique / 1e6).toFixed(0)} MB unique (base ${(base.size / 1e6).toFixed(0)} MB), registry ${ADDR}:443 as ${NAMES.join(', ')}; ${rounds} rounds`);
  // Warm the registry's files for both sides.
  await run('sh', ['-c', `find '${join(root, 'registry')}' -type f -exec cat {} + > /dev/null`]);

  /** Each round runs the steps in turn, reversed every other round, so no side always follows the other's writeback. */
  const alternate = async (r: number, steps: Record<string, () => Promise<number>>): Promise<Record<string, number>> => {
    const t: Record<string, number> = {};
    const names = Object.keys(steps);
    for (const k of r % 2 === 0 ? names : names.reverse()) {
      await run('sync');
      t[k] = await steps[k]!();
    }
    return t;
  };

  const cold: number[] = [];
  const coldCpu: number[] = [];
  const rss: number[] = [];
  for (let r = 0; r < (only.has('cold') ? rounds : 0); r++) {
    const out = join(root, 'out.tar');
    const ours = async () => {
      const c = cache('cache-cold');
      const res = await build(all, c, out, ['--json']);
      const lines = res.stdout.trim().split('\n');
      const entries = Number(execFileSync('sh', ['-c', `tar -xOf '${out}' tls6-1.0.0/SHA256SUMS | wc -l`], { encoding: 'utf8' }));
      say(`    --json: ${lines.length} lines in ${res.seconds.toFixed(2)} s for ${entries} artifacts (goal ≤ ${Math.floor(10 * res.seconds + entries + 20)})`);
      rss.push(res.rssMB);
      rmSync(out, { force: true });
      return res;
    };
    const peer = async () => {
      const dest = join(root, 'skopeo');
      const s = await skopeo(dest);
      rmSync(dest, { recursive: true, force: true });
      return s;
    };
    let a = { seconds: 0, rssMB: 0, cpu: 0 };
    let b = { seconds: 0, cpu: 0 };
    await alternate(r, {
      ours: async () => (a = await ours()).seconds,
      skopeo: async () => (b = await peer()).seconds,
    });
    cold.push(a.seconds / b.seconds);
    coldCpu.push(a.cpu / b.cpu);
    say(`  cold round ${r + 1}: ks-bundle build ${a.seconds.toFixed(2)} s, ${a.cpu.toFixed(2)} CPU-s (peak RSS ${a.rssMB.toFixed(0)} MB) vs skopeo copy --all ×${images.length} ${b.seconds.toFixed(2)} s, ${b.cpu.toFixed(2)} CPU-s → ${(a.seconds / b.seconds).toFixed(2)}×`);
  }

  // The later measurements use the cold build's cache.
  if (!only.has('cold')) await build(all, cache('cache-cold'), join(root, 'out.tar'));
  rmSync(join(root, 'out.tar'), { force: true });

  // One blob: the base's added time against curl --http1.1 of the same URL.
  // The base as the cache holds it (named by its digest as the registry serves it): the largest blob of the cold build.
  const basePath = execFileSync('sh', ['-c', `find '${join(root, 'cache-cold', 'sha256')}' -type f -size +500M | head -1`], { encoding: 'utf8' }).trim();
  const hex = basePath.split('/').pop()!;
  const blobUrl = `https://registry-1.docker.io/v2/${images[0]!.repo}/blobs/sha256:${hex}`;
  const blob: number[] = [];
  for (let r = 0; r < (only.has('blob') ? rounds : 0); r++) {
    const out = join(root, 'one.tar');
    const t = await alternate(r, {
      cold: async () => (await build(one, cache('cache-one'), out)).seconds,
      warm: async () => {
        const c = cache('cache-one-warm');
        mkdirSync(join(c, 'sha256', hex.slice(0, 2)), { recursive: true });
        execFileSync('ln', [basePath, join(c, 'sha256', hex.slice(0, 2), hex)]);
        return (await build(one, c, out)).seconds;
      },
      curl: async () => {
        const res = await inNs('curl', ['--http1.1', '-sf', '--cacert', ca.cert, '-o', join(root, 'curl.bin'), blobUrl]);
        rmSync(join(root, 'curl.bin'));
        return res.seconds;
      },
    });
    const added = t.cold! - t.warm!;
    blob.push(added / t.curl!);
    say(`  blob round ${r + 1}: one-image build ${t.cold!.toFixed(2)} s, with the base cached ${t.warm!.toFixed(2)} s → adds ${added.toFixed(2)} s vs curl --http1.1 ${t.curl!.toFixed(2)} s → ${(added / t.curl!).toFixed(2)}×`);
  }

  // Pack: a second build from the warm cache against tar cf of the unpacked bundle.
  const pack: number[] = [];
  const packCpu: Array<[number, number]> = [];
  if (only.has('pack')) {
    const unpacked = join(root, 'unpacked');
    mkdirSync(unpacked, { recursive: true });
    await build(all, join(root, 'cache-cold'), join(root, 'pack.tar'));
    execFileSync('tar', ['-xf', join(root, 'pack.tar'), '-C', unpacked]);
    for (let r = 0; r < rounds; r++) {
      const cpu: Record<string, number> = {};
      const t = await alternate(r, {
        ours: async () => {
          rmSync(join(root, 'pack.tar'), { force: true });
          const res = await build(all, join(root, 'cache-cold'), join(root, 'pack.tar'));
          cpu.ours = res.cpu;
          return res.seconds;
        },
        tar: async () => {
          rmSync(join(root, 'tarcf.tar'), { force: true });
          const res = await inNs('tar', ['cf', join(root, 'tarcf.tar'), '-C', unpacked, '.']);
          cpu.tar = res.cpu;
          return res.seconds;
        },
      });
      pack.push(t.tar! / t.ours!);
      packCpu.push([cpu.ours!, cpu.tar!]);
      say(`  pack round ${r + 1}: second build ${t.ours!.toFixed(2)} s, ${cpu.ours!.toFixed(2)} CPU-s vs tar cf ${t.tar!.toFixed(2)} s, ${cpu.tar!.toFixed(2)} CPU-s → speed ${(t.tar! / t.ours!).toFixed(2)}×`);
    }
  }
  // A build that names nothing, from the seeded cache: what every build costs before its first artifact.
  const empty: Array<{ seconds: number; cpu: number }> = [];
  const emptyManifest = join(root, 'seed.yaml');
  for (let r = 0; r < (only.has('empty') ? rounds * 2 : 0); r++) {
    rmSync(join(root, 'empty.tar'), { force: true });
    empty.push(await build(emptyManifest, seed, join(root, 'empty.tar')));
  }
  if (empty.length) say(`  empty builds: ${empty.map((e) => `${e.seconds.toFixed(2)} s / ${e.cpu.toFixed(2)} CPU-s`).join(', ')}`);
  say(`load average at the end: ${load()}`);
  if (cold.length) say(`cold build / skopeo: median ${median(cold).toFixed(2)}× wall (goal ≤ 0.7×), ${median(coldCpu).toFixed(2)}× CPU-seconds`);
  if (blob.length) say(`blob added / curl --http1.1: median ${median(blob).toFixed(2)}× (goal ≤ 1.15×)`);
  if (pack.length) say(`pack speed / tar cf: median ${median(pack).toFixed(2)}× (goal ≥ 1.0×); CPU-seconds median ${median(packCpu.map((c) => c[0])).toFixed(2)} against ${median(packCpu.map((c) => c[1])).toFixed(2)}`);
  if (empty.length) say(`warm build naming nothing: median ${median(empty.map((e) => e.seconds)).toFixed(2)} s wall, ${median(empty.map((e) => e.cpu)).toFixed(2)} CPU-s (goal: a few tenths)`);
  if (rss.length) say(`peak RSS of the cold build: max ${Math.max(...rss).toFixed(0)} MB (goal < 200 MB)`);
} finally {
  await registry.stop();
  rmSync(root, { recursive: true, force: true });
}
