/**
 * The fixture world shared by the offline-install e2e test and `npm run demo`: local upstreams on FIXED loopback
 * ports (so manifests/demo.yaml is a static, committed file), the real CLI building a bundle from them, and the
 * sandbox nodes of TESTBED.md that the bundle is carried into and installed on.
 *
 * Upstreams (all on 127.0.0.1, nothing else is ever addressed):
 *   - docker-registry with htpasswd auth, holding the umoci busybox fixture as library/busybox:1.36; the manifest
 *     names it docker.io/library/busybox:1.36 with `endpoint` pointing here;
 *   - the repacked-Debian wheel index (PEP 503), served as static files;
 *   - a streaming GET/HEAD reverse proxy to this machine's Debian mirror, read from its apt sources at run time, so
 *     no mirror host is ever written into the repo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { wheelFixture } from '../fixtures/wheels/fixture.js';
import { htpasswd, stopProcess } from '../images/support.js';
import { debianMirrorUrl } from '../testbed/apt-sources.js';
import type { Sandbox, SandboxNode } from '../testbed/sandbox.js';
import { createSandbox } from '../testbed/sandbox.js';
import { CLI, REPO } from './cli.js';

/** The ports manifests/demo.yaml names. Change both together. */
export const WORLD_PORTS = { registry: 47311, wheels: 47312, apt: 47313 } as const;
export const DEMO_MANIFEST = join(REPO, 'manifests', 'demo.yaml');
export const DEMO_IMAGE = 'docker.io/library/busybox:1.36';
/** Test-only credentials of the fixture registry (it holds a busybox built here, nothing else). */
const REGISTRY_USER = 'ksb-demo';
const REGISTRY_PASS = 'ksb-demo-fixture-pw';

export interface Handle {
  url: string;
  close(): Promise<void>;
}

export interface World {
  registry: Handle & { host: string; creds: string };
  wheels: Handle;
  apt: Handle;
  /** Environment for `ks-bundle build`: the registry's credentials, as src/images/credentials.ts reads them. */
  buildEnv: NodeJS.ProcessEnv;
  /** The fixture image as the registry itself serves it: `127.0.0.1:PORT/library/busybox:1.36`. */
  upstreamImageRef: string;
  close(): Promise<void>;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

async function claim(port: number, what: string): Promise<void> {
  if (!(await portFree(port))) {
    throw new Error(`127.0.0.1:${port} (${what} of manifests/demo.yaml) is in use: is another demo or e2e run going? Stop it first.`);
  }
}

async function waitHttp(url: string, proc: ChildProcess, what: string, stderr: () => string): Promise<void> {
  for (let i = 0; ; i++) {
    if (await fetch(url).then((r) => (r.body?.cancel(), true), () => false)) return;
    if (proc.exitCode !== null || i > 200) throw new Error(`${what} did not start: ${stderr()}`);
    await sleep(50);
  }
}

/** docker-registry on the fixed port, htpasswd auth, with the busybox fixture pushed as library/busybox:1.36. */
export async function startRegistryUpstream(dir: string): Promise<World['registry']> {
  const port = WORLD_PORTS.registry;
  await claim(port, 'the registry');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n` +
      `http:\n  addr: 127.0.0.1:${port}\nauth:\n  htpasswd:\n    realm: ks-bundle-demo\n    path: ${htpasswd(dir, REGISTRY_USER, REGISTRY_PASS)}\n`,
  );
  const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  const host = `127.0.0.1:${port}`;
  try {
    await waitHttp(`http://${host}/v2/`, proc, 'docker-registry', () => err);
    const layout = buildFixtureImages(join(dir, 'images'));
    await pushFixture(layout, 'busybox', `${host}/library/busybox:1.36`, `${REGISTRY_USER}:${REGISTRY_PASS}`);
  } catch (e) {
    await stopProcess(proc);
    throw e;
  }
  return { url: `http://${host}`, host, creds: `${REGISTRY_USER}:${REGISTRY_PASS}`, close: () => stopProcess(proc) };
}

/** The wheel fixture index on the fixed port (python3's http.server, stopped by its PID). */
export async function startWheelUpstream(): Promise<Handle> {
  const port = WORLD_PORTS.wheels;
  await claim(port, 'the wheel index');
  const dir = wheelFixture();
  const proc = spawn('/usr/bin/python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  let err = '';
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/simple/`, proc, 'the wheel index', () => err).catch(async (e) => {
    await stopProcess(proc);
    throw e;
  });
  return { url, close: () => stopProcess(proc) };
}

/** What a client asked the Debian proxy for (a test can check that nothing but metadata was fetched). */
export interface ProxiedRequest {
  method: string;
  path: string;
  /** The Range header, '' without one. */
  range: string;
}

/**
 * `http://127.0.0.1:PORT/debian/<rest>` → `<this machine's Debian mirror>/<rest>`, GET and HEAD only, streamed
 * both ways (a deb never sits in memory). Anything else is 405/404: the proxy opens no other door.
 */
export async function startAptProxy(opts: { anyPort?: boolean } = {}): Promise<Handle & { requests: ProxiedRequest[] }> {
  const requests: ProxiedRequest[] = [];
  // The demo's fixed port, or (anyPort) one the system picks, for tests that run beside a demo.
  let port: number = opts.anyPort ? 0 : WORLD_PORTS.apt;
  if (!opts.anyPort) await claim(port, 'the Debian proxy');
  const upstream = new URL(debianMirrorUrl('bookworm') + '/');
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = req.url ?? '/';
    requests.push({ method: req.method, path, range: typeof req.headers.range === 'string' ? req.headers.range : '' });
    if (!path.startsWith('/debian/')) {
      res.writeHead(404).end();
      return;
    }
    const target = new URL(path.slice('/debian/'.length), upstream);
    const headers: Record<string, string> = {};
    for (const h of ['range', 'if-modified-since', 'if-none-match', 'if-range', 'accept', 'user-agent']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const up = send(target, { method: req.method, headers }, (upRes: IncomingMessage) => {
      const out: Record<string, string | string[]> = {};
      for (const h of ['content-type', 'content-length', 'content-range', 'accept-ranges', 'last-modified', 'etag', 'location']) {
        const v = upRes.headers[h];
        if (v !== undefined) out[h] = v;
      }
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`upstream error: ${e.message}\n`);
    });
    req.on('close', () => {
      if (!res.writableEnded) up.destroy();
    });
    up.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/debian`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** All three upstreams; on a failure half way, what was started is stopped again. */
export async function startWorld(dir: string): Promise<World> {
  const started: Handle[] = [];
  try {
    const apt = await startAptProxy();
    started.push(apt);
    const wheels = await startWheelUpstream();
    started.push(wheels);
    const registry = await startRegistryUpstream(join(dir, 'registry'));
    started.push(registry);
    const envKey = 'KS_BUNDLE_REGISTRY_AUTH_' + registry.host.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    return {
      registry,
      wheels,
      apt,
      buildEnv: { [envKey]: registry.creds },
      upstreamImageRef: `${registry.host}/library/busybox:1.36`,
      close: async () => {
        for (const h of started.reverse()) await h.close().catch(() => {});
      },
    };
  } catch (e) {
    for (const h of started.reverse()) await h.close().catch(() => {});
    throw e;
  }
}

/**
 * Build the demo bundle with the real CLI, as a user would. `onLine` gets its output line by line (progress is plain
 * lines when not on a TTY). Rejects with the tail of the output on a non-zero exit.
 */
export async function buildDemoBundle(opts: { out: string; cache: string; env: NodeJS.ProcessEnv; onLine?: (line: string) => void; extraArgs?: string[]; inherit?: boolean }): Promise<void> {
  // The lock goes beside the output: the Debian mirror moves, and a lock for a local fixture world is not worth a commit.
  const args = [CLI, 'build', '-m', DEMO_MANIFEST, '-o', opts.out, '--lock', `${opts.out}.manifest-lock.yaml`, '--cache', opts.cache, ...(opts.extraArgs ?? [])];
  if (opts.inherit) {
    // On a terminal the CLI draws its own progress bars.
    const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: 'inherit' });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    if (code !== 0) throw new Error(`ks-bundle build exited ${code} (its output is above)`);
    return;
  }
  const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const take = (d: Buffer) => {
    const text = d.toString();
    tail = (tail + text).slice(-6000);
    if (opts.onLine) for (const l of text.split('\n')) if (l.trim()) opts.onLine(l);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`ks-bundle build exited ${code}:\n${tail}`);
}

export const SANDBOX_NODES = [
  { name: 'node1', auth: 'key' as const },
  { name: 'node2', auth: 'key' as const, becomePassword: 'ksb-become-two' },
  { name: 'node3', auth: 'password' as const, password: 'ksb-login-three', becomePassword: 'ksb-become-three' },
];

/**
 * The seed's three nodes: node1 = taskbox + master + etcd (ansible_connection=local), node2 key auth with a become
 * password, node3 password auth with a become password (root's, via sudo's rootpw). Nodes get a default route to a
 * gateway that forwards nothing, so Ansible's facts are complete while the network stays sealed.
 */
export async function createDemoSandbox(): Promise<Sandbox> {
  return createSandbox({ nodes: SANDBOX_NODES, defaultRoute: true });
}

/** Where, inside node1, the private keys of the other nodes are seen. */
export const KEY_DIR_IN_NODE = '/root/.ksb-keys';
export const keyPathInNode = (n: SandboxNode) => `${KEY_DIR_IN_NODE}/${n.name}_ed25519`;

/** The "USB stick": the tarball copied into node1's filesystem, and the keys the inventory names. */
export function carryIntoTaskbox(sb: Sandbox, tarball: string, nameInNode = '/root/bundle.tar'): string {
  const root = sb.rootOf('node1');
  copyFileSync(tarball, join(root, nameInNode));
  mkdirSync(join(root, KEY_DIR_IN_NODE), { recursive: true, mode: 0o700 });
  for (const n of sb.nodes.values()) {
    copyFileSync(n.keyPath, join(root, keyPathInNode(n)));
    // cp keeps 0600 from ssh-keygen's file; ssh and ssh2 refuse a world-readable key anyway.
  }
  return nameInNode;
}

/** `tar xf` inside node1 (with the node's own tar); returns the unpacked bundle's folder as node1 sees it. */
export async function unpackInTaskbox(sb: Sandbox, tarInNode: string, into = '/root/usb'): Promise<string> {
  await sb.exec('node1', `rm -rf ${into} && mkdir -p ${into} && cd ${into} && tar xf ${tarInNode}`);
  const ls = (await sb.exec('node1', `ls -1 ${into}`)).stdout.trim().split('\n').filter(Boolean);
  if (ls.length !== 1) throw new Error(`the bundle tarball unpacked into ${ls.length} top-level entries: ${ls.join(', ')}`);
  return `${into}/${ls[0]}`;
}

/** A vars.yml valid for multi-node: no local volume (all-in-one only), no other default storage class. */
export const MULTI_NODE_VARS = [
  '# ks-bundle demo: the fixture playbook installs no cluster, so only what validation reads matters.',
  'kube_network_plugin: calico',
  'local_volume_provisioner_enabled: false',
  'local_volume_provisioner_is_default_class: false',
  'ceph_rbd_enabled: false',
  'ceph_rbd_is_default_class: false',
  'glusterfs_provisioner_enabled: false',
  'glusterfs_provisioner_is_default_class: false',
  '',
].join('\n');

/** Write conf/hosts.ini (the sandbox's, node1 local) and conf/vars.yml into the unpacked bundle in node1. */
export function writeConf(sb: Sandbox, bundleInNode: string, opts: { hostsIni?: string; varsYml?: string } = {}): void {
  const conf = join(sb.rootOf('node1'), bundleInNode, 'conf');
  mkdirSync(conf, { recursive: true });
  writeFileSync(join(conf, 'hosts.ini'), opts.hostsIni ?? sb.inventoryIni({ localNode: 'node1', keyPath: keyPathInNode }), { mode: 0o600 });
  writeFileSync(join(conf, 'vars.yml'), opts.varsYml ?? MULTI_NODE_VARS);
}

export const INSTALL_ARGS = '--mode multi-node --yes --ignore-preflight --accept-new-host-keys';

/** `./install.sh` inside node1, with the bundle's own bin/node; never throws on a non-zero exit. */
export async function runInstallInTaskbox(sb: Sandbox, bundleInNode: string, args = INSTALL_ARGS) {
  return sb.exec('node1', `cd ${bundleInNode} && ./install.sh ${args} 2>&1`, { allowFail: true });
}

/** A private scratch dir for one run (build output, registry storage); removed by the caller. */
export function worldDir(prefix = 'ksb-world-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}
