/**
 * `npm run demo`: the whole ks-bundle flow on this machine, with nothing from outside it.
 *
 *   1. local upstreams on loopback (test/support/world.ts): a docker-registry with auth, a wheel index, and a proxy
 *      to this machine's Debian mirror;
 *   2. `ks-bundle build -m manifests/demo.yaml`, then `verify` and `inspect` of the tarball;
 *   3. as root: three sealed sandbox nodes (TESTBED.md), the tarball carried into node1 ("the USB stick"),
 *      unpacked with tar and installed by its own ./install.sh; then the miss log and what each node got;
 *      not root: `ks-bundle serve` of the bundle on loopback, pulled from with skopeo, pip and a signed apt index.
 * Everything it starts is stopped by PID, also on Ctrl-C; the sandbox tears itself down.
 *
 * Run from a checkout after `bash scripts/setup-system.sh && npm ci` (npm ci builds dist/).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { copyFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'dist', 'cli', 'main.js');
const root = process.getuid?.() === 0;
const tty = !!process.stdout.isTTY;
const MIRROR_PORT = 47314;

// The fixtures cache under /var/cache when root, else in the user's cache (read when world.ts is first imported).
const cacheRoot = root ? '/var/cache/ks-bundle-test' : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ks-bundle-test');
process.env.KS_BUNDLE_TEST_CACHE ??= cacheRoot;

const say = (s = '') => process.stdout.write(s + '\n');
const step = (n: number, title: string) => say(`\n${tty ? '\x1b[1m' : ''}== ${n}. ${title}${tty ? '\x1b[0m' : ''}`);
const indent = (text: string, pad = '   ') => text.replace(/\s+$/, '').split('\n').map((l) => pad + l).join('\n');

/** Run a command, its output shown indented as it comes; rejects on a non-zero exit. */
function show(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let partial = '';
    const take = (d: Buffer) => {
      out += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) say('   ' + l);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => {
      if (partial) say('   ' + partial);
      if (code !== 0 && !opts.allowFail) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`));
      else resolve({ code: code ?? 1, out });
    });
  });
}

let upstreamDigest = '';
const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) await c().catch((e) => say(`cleanup: ${(e as Error).message}`));
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    say(`\n${sig}: stopping what the demo started…`);
    void cleanup().then(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  if (!existsSync(CLI) || !existsSync(join(REPO, 'dist', 'ks-bundle.mjs'))) {
    throw new Error('dist/ is not built: run `npm ci` (or `npm run build`) first');
  }
  const world = await import('../test/support/world.js');
  const work = world.worldDir('ks-bundle-demo-');
  cleanups.push(async () => world.removeDir(work));
  const started = Date.now();
  const secs = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

  step(1, 'local upstreams on loopback (nothing outside this machine is used)');
  const w = await world.startWorld(join(work, 'upstreams'));
  cleanups.push(() => w.close());
  say(`   registry  ${w.registry.url}  (htpasswd auth; holds library/busybox:1.36 built here with umoci)`);
  say(`   wheels    ${w.wheels.url}/simple/  (real wheels repacked from Debian's python3 packages)`);
  say(`   apt       ${w.apt.url}  (read-only proxy to this machine's Debian mirror)`);

  step(2, 'ks-bundle build -m manifests/demo.yaml');
  const tarball = join(work, 'ks-demo-0.1.0.tar');
  const buildCache = join(cacheRoot, 'demo-cache');
  mkdirSync(buildCache, { recursive: true });
  await world.buildDemoBundle({ out: tarball, cache: buildCache, env: w.buildEnv, inherit: tty, onLine: (l) => say('   ' + l) });
  // Upstream's digest, from the registry's own bytes, to compare with what the nodes pull later.
  const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', w.registry.creds, `docker://${w.upstreamImageRef}`]);
  upstreamDigest = 'sha256:' + createHash('sha256').update(raw).digest('hex');
  // The bundle holds everything now: the upstreams go away, so nothing later can lean on them.
  await w.close();

  step(3, 'ks-bundle verify and inspect');
  await show(process.execPath, [CLI, 'verify', tarball]);
  await show(process.execPath, [CLI, 'inspect', tarball]);

  if (!root) {
    await serveAndPull(tarball, work);
    say(`\nThe demo stopped here because it is not running as root: the offline install needs root to create the`);
    say(`sandbox nodes (network namespaces, overlay mounts, chroots with sshd). Run \`sudo npm run demo\` for the rest.`);
    say(`Total ${secs()}.`);
    return;
  }
  await installOnSandbox(world, tarball);
  say(`\nDemo finished in ${secs()}; cleaning up (sandbox, upstreams, temp files).`);
}

/** Not root: serve the bundle's mirror on loopback and pull from it with real clients. */
async function serveAndPull(tarball: string, work: string): Promise<void> {
  step(4, `ks-bundle serve on 127.0.0.1:${MIRROR_PORT}, pulled from with real clients`);
  const dataDir = join(work, 'data');
  const server = spawn(process.execPath, [CLI, 'serve', tarball, '--listen', '127.0.0.1', '--port', String(MIRROR_PORT), '--data-dir', dataDir, '--log-dir', join(work, 'logs')], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => {
    if (server.exitCode === null) server.kill('SIGTERM');
  });
  let log = '';
  server.stdout.on('data', (d) => (log += d));
  server.stderr.on('data', (d) => (log += d));
  const base = `http://127.0.0.1:${MIRROR_PORT}`;
  for (let i = 0; !(await fetch(`${base}/healthz`).then((r) => r.ok, () => false)); i++) {
    if (server.exitCode !== null || i > 600) throw new Error(`ks-bundle serve did not come up:\n${log}`);
    await sleep(100);
  }
  say(`   mirror: ${base}`);
  const oci = join(work, 'pulled-oci');
  say('   $ skopeo copy docker://127.0.0.1:47314/library/busybox:1.36 oci:…');
  await show('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://127.0.0.1:${MIRROR_PORT}/library/busybox:1.36`, `oci:${oci}:busybox`]);
  const layers = readdirSync(join(oci, 'blobs', 'sha256')).length;
  // The digest as the mirror serves it (skopeo copy may re-encode the manifest it writes into the oci dir).
  const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://127.0.0.1:${MIRROR_PORT}/library/busybox:1.36`]);
  say(`   pulled busybox:1.36 (${layers} blobs); the mirror serves its manifest as sha256:${createHash('sha256').update(raw).digest('hex')}`);
  say('   $ pip download --isolated --index-url …/pypi/simple/ netaddr');
  const wheels = join(work, 'pulled-wheels');
  await show('python3', ['-m', 'pip', 'download', '--isolated', '--disable-pip-version-check', '--no-deps', '-q', '--index-url', `${base}/pypi/simple/`, '-d', wheels, 'netaddr'], {
    env: { PIP_CONFIG_FILE: '/dev/null' },
  });
  say(`   ${execFileSync('ls', [wheels], { encoding: 'utf8' }).trim()}`);
  say('   $ gpgv --keyring <bundle key> InRelease   (the apt repo the nodes would use)');
  const inRelease = join(work, 'InRelease');
  const res = await fetch(`${base}/apt/debian-12/dists/bookworm/InRelease`);
  if (!res.ok) throw new Error(`InRelease: HTTP ${res.status}`);
  // Small text (an index and a key): read whole.
  await writeFile(inRelease, Buffer.from(await res.arrayBuffer()));
  // The key the installer gives every node, from the unpacked bundle the mirror serves.
  const keyring = join(work, 'ks-bundle.gpg');
  await copyFile(join(dataDir, 'ks-demo-0.1.0', 'repos', 'apt', 'ks-bundle.gpg'), keyring);
  await show('gpgv', ['--keyring', keyring, inRelease]);
  const misses = (await (await fetch(`${base}/misses`)).json()) as unknown[];
  say(`   mirror miss log: ${misses.length ? JSON.stringify(misses) : 'empty'}`);
}

/** Root: the sandbox nodes, the USB stick, ./install.sh inside node1, and what the nodes got. */
async function installOnSandbox(world: typeof import('../test/support/world.js'), tarball: string): Promise<void> {
  step(4, 'three sandbox nodes: node1 = taskbox + master + etcd, node2 (key auth), node3 (password auth)');
  // The nodes' root filesystem is built once per machine (debootstrap, about a minute) and cached.
  const { ensureRootfs } = await import('../test/testbed/rootfs.js');
  await ensureRootfs({ log: (line) => say(`   first run: building the nodes' Debian 12 root filesystem (cached afterwards): ${line}`) });
  const sb = await world.createDemoSandbox();
  cleanups.push(() => sb.teardown());
  for (const n of sb.nodes.values()) say(`   ${n.name}  ${n.ip}  ${n.auth} auth${n.becomePassword ? ', sudo asks a password' : ''}`);
  say('   the nodes have no route out: only the taskbox\'s mirror can serve them');

  step(5, 'the USB stick: the tarball copied into node1, unpacked there with tar');
  const tarInNode = world.carryIntoTaskbox(sb, tarball);
  const bundle = await world.unpackInTaskbox(sb, tarInNode);
  world.writeConf(sb, bundle);
  say(`   node1:${bundle}  (${(statSync(tarball).size / 2 ** 20).toFixed(0)} MiB tarball)`);
  say(`   conf/hosts.ini:\n${indent(readFileSync(join(sb.rootOf('node1'), bundle, 'conf', 'hosts.ini'), 'utf8').replace(/(ansible_(?:become_)?pass(?:word)?=)\S+/g, '$1***'), '     ')}`);

  step(6, `inside node1: ./install.sh ${world.INSTALL_ARGS}`);
  const logInNode = '/root/install.log';
  const logOnHost = join(sb.rootOf('node1'), logInNode);
  let shown = 0;
  let done = false;
  // When each step's first line showed up (polled every 300 ms): the install broken down by step.
  const marks: Array<{ at: number; step: string }> = [];
  const t0 = Date.now();
  const follow = (async () => {
    while (!done) {
      await sleep(300);
      if (!existsSync(logOnHost)) continue;
      const text = readFileSync(logOnHost, 'utf8');
      const upto = text.lastIndexOf('\n') + 1;
      if (upto > shown) {
        const fresh = text.slice(shown, upto);
        for (const m of fresh.matchAll(/^\[(\d)\/8\] (.*)$/gm)) marks.push({ at: Date.now(), step: `[${m[1]}/8] ${m[2]!.slice(0, 60)}` });
        process.stdout.write(indent(fresh) + '\n');
      }
      shown = Math.max(shown, upto);
    }
  })();
  const r = await sb.exec('node1', `cd ${bundle} && ./install.sh ${world.INSTALL_ARGS} > ${logInNode} 2>&1`, { allowFail: true });
  done = true;
  await follow;
  const rest = readFileSync(logOnHost, 'utf8').slice(shown);
  if (rest.trim()) say(indent(rest));
  if (r.code !== 0) throw new Error(`install.sh exited ${r.code}`);
  const end = Date.now();
  say(`\n   install.sh took ${((end - t0) / 1000).toFixed(1)} s; by step (±0.3 s):`);
  marks.forEach((m, i) => say(`     ${(((marks[i + 1]?.at ?? end) - m.at) / 1000).toFixed(1).padStart(6)} s  ${m.step}`));

  step(7, 'what the nodes got, checked from inside each node');
  const misses = await sb.exec('node1', `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:5080/misses").read().decode())'`);
  say(`   mirror miss log (GET /misses on node1): ${misses.stdout.trim()}`);
  for (const n of sb.nodes.keys()) {
    const pk = (await sb.exec(n, `dpkg-query -W -f '\${Package}=\${Version} ' socat conntrack ipset ebtables containerd`)).stdout.trim();
    const digest = (await sb.exec(n, 'cat /var/lib/ks-demo/busybox.digest')).stdout.trim();
    const netaddr = (await sb.exec(n, `/var/lib/ks-demo/venv/bin/python -c 'import netaddr; print(netaddr.__version__)'`)).stdout.trim();
    say(`   ${n}: ${pk}`);
    say(`   ${' '.repeat(n.length)}  netaddr ${netaddr} in a venv via /etc/pip.conf; ${world.DEMO_IMAGE} pulled by containerd: ${digest}`);
    if (digest !== upstreamDigest) throw new Error(`${n} pulled ${digest}, upstream has ${upstreamDigest}`);
  }
  say(`   upstream's digest (skopeo inspect --raw of the fixture registry, before it was stopped): ${upstreamDigest}: the same on every node`);
}

try {
  await main();
  await cleanup();
  process.exit(0);
} catch (err) {
  say(`\ndemo failed: ${(err as Error).message}`);
  await cleanup();
  process.exit(1);
}
