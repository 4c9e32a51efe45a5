/**
 * containerd on a kubespray node pulls from the mirror alone, proven with the real parts:
 * - kubespray v2.24.3's own roles/container-engine/containerd/templates/config.toml.j2 and hosts.toml.j2, and its
 *   `downloads:` and image pull command, rendered by ansible-playbook from the real tree with the vars file the
 *   installer writes (planCluster and dumpVarsFile, from the conf/vars.yml the bundle ships);
 * - a private containerd started with that config.toml, pulling through its CRI plugin (config_path, as kubelet's
 *   pulls do) and through `ctr --hosts-dir` as kubespray's download role does, from the ks-bundle mirror serving a
 *   bundle that holds one image per registry kubespray names;
 * - a stand-in for the internet: docker-registry over TLS under the real names (docker.io, registry-1.docker.io,
 *   registry.k8s.io, quay.io, ghcr.io, gcr.io) on a loopback address of its own, seen through a mount namespace's
 *   /etc/hosts and trusted through SSL_CERT_FILE, holding every image the misses ask for. It must never be contacted.
 *   The control case shows it would be: kubespray's hosts.toml for an upstream prefix falls back to it on a miss.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMirror, type RunningMirror } from '../../src/mirror/server.js';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import { kubesprayDownloads } from '../../src/kubespray/downloads.js';
import { upstreamImageOf } from '../../src/kubespray/mirror-vars.js';
import type { Settings } from '../../src/kubespray/release.js';
import { buildFixtureImages } from '../fixtures/images/build.js';
import { freePort, stopProcess } from '../images/support.js';
import { criPullImage } from '../support/cri.js';
import { requireTools } from '../support/tools.js';
import { KUBESPRAY_TARBALL, unpackUpstream } from '../support/upstream.js';
import { VARS_YML_TEMPLATE } from '../../src/nodes/templates.js';
import { installerVarsFile } from './installer-vars.js';
import { runKubesprayPlay } from './kubespray-play.js';

const run = promisify(execFile);
const UPSTREAM_NAMES = ['docker.io', 'registry-1.docker.io', 'index.docker.io', 'registry.k8s.io', 'quay.io', 'ghcr.io', 'gcr.io'];
// What a miss asks for in each registry, and where the stand-in keeps it (docker.io's library/ prefix included).
const MISSES = [
  { upstream: 'docker.io/library/absent:1', standIn: 'library/absent:1' },
  { upstream: 'registry.k8s.io/absent:1', standIn: 'absent:1' },
  { upstream: 'quay.io/absent/absent:1', standIn: 'absent/absent:1' },
  { upstream: 'ghcr.io/absent/absent:1', standIn: 'absent/absent:1' },
];

let tmp: string;
let kubespray: string;
let registry: string; // the mirror as the nodes name it: 127.0.0.1:PORT
let mirror: RunningMirror;
let cfg: string; // containerd_cfg_dir
let sock: string;
let containerd: ChildProcess | undefined;
let standIn: ChildProcess | undefined;
let standInLog = '';
let hostsFile: string;
let caFile: string;
let installerVars: Record<string, unknown>;
let rendered: { pull: string; images: Array<{ component: string; enabled: boolean; image: string }>; control: string };
const pulled: string[] = [];

/** Run a command as a node process would: in a mount namespace whose /etc/hosts sends the upstream names to the stand-in. */
function asNode(cmd: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, ...cmd], {
    env: { ...process.env, SSL_CERT_FILE: caFile, CONTAINERD_ADDRESS: sock, ...env },
    maxBuffer: 1 << 24,
  });
}

const standInRequests = () => standInLog.split('\n').filter((l) => /"(GET|HEAD) \/v2\/\S+/.test(l));

async function startStandIn(dir: string): Promise<string> {
  const openssl = (...a: string[]) => execFileSync('openssl', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  mkdirSync(dir, { recursive: true });
  caFile = join(dir, 'ca.pem');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', caFile, '-days', '2',
    '-subj', '/CN=ks-bundle test internet', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (let attempt = 0; ; attempt++) {
    const ip = `127.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    writeFileSync(join(dir, 'ext'), `subjectAltName=${[...UPSTREAM_NAMES.map((n) => `DNS:${n}`), `IP:${ip}`].join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr'), '-subj', '/CN=docker.io');
    openssl('x509', '-req', '-in', join(dir, 'server.csr'), '-CA', caFile, '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', join(dir, 'server.crt'), '-days', '2', '-extfile', join(dir, 'ext'));
    writeFileSync(
      join(dir, 'config.yml'),
      `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n` +
        `http:\n  addr: ${ip}:443\n  tls:\n    certificate: ${join(dir, 'server.crt')}\n    key: ${join(dir, 'server.key')}\n`,
    );
    standInLog = '';
    const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => (standInLog += d));
    proc.stderr!.on('data', (d) => (standInLog += d));
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      if (await fetch(`http://${ip}:443/`).then(() => true, () => false)) {
        standIn = proc;
        return ip;
      }
      await sleep(50);
    }
    await stopProcess(proc);
    if (attempt === 5) throw new Error(`the stand-in registry did not start: ${standInLog.slice(-2000)}`);
  }
}

beforeAll(async () => {
  requireTools('ansible-playbook', 'containerd', 'ctr', 'runc', 'docker-registry', 'skopeo', 'umoci', 'openssl', 'unshare', 'tar', 'sha256sum');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-ctrd-mirror-'));
  kubespray = unpackUpstream(KUBESPRAY_TARBALL, tmp);
  const port = await freePort();
  registry = `127.0.0.1:${port}`;
  cfg = join(tmp, 'etc-containerd');
  sock = join(tmp, 'containerd.sock');

  // The vars file the installer hands ansible-playbook (its own code, from the conf/vars.yml the bundle ships), then
  // this test's own paths, none of which the installer sets.
  const mirrorVars = await installerVarsFile({ dir: tmp, kubespray, mirrorHost: '127.0.0.1', port });
  installerVars = yaml.load(readFileSync(mirrorVars, 'utf8')) as Record<string, unknown>;
  const paths = { containerd_cfg_dir: cfg, containerd_storage_dir: join(tmp, 'root'), containerd_state_dir: join(tmp, 'state'), bin_dir: '/usr/bin', out_file: join(tmp, 'rendered.json') };
  for (const k of Object.keys(paths)) expect(k in installerVars, k).toBe(false);
  writeFileSync(join(tmp, 'paths.json'), JSON.stringify(paths));
  const control = [{ prefix: 'docker.io', mirrors: [{ host: `http://${registry}`, capabilities: ['pull', 'resolve'], skip_verify: false }] }];
  const tpl = (f: string) => join(kubespray, 'roles/container-engine/containerd/templates', f);
  await runKubesprayPlay(tmp, 'render', {
    kubespray,
    roles: ['container-engine/containerd-common', 'container-engine/containerd'],
    facts: true,
    extraVarFiles: [mirrorVars, join(tmp, 'paths.json')],
    tasks: [
      // What the containerd role does before config.toml: the base runtime spec from `ctr oci spec`.
      { command: 'ctr oci spec', register: 'ctr_oci_spec', changed_when: false },
      { set_fact: { containerd_default_base_runtime_spec: '{{ ctr_oci_spec.stdout | from_json }}' } },
      { file: { path: '{{ containerd_cfg_dir }}', state: 'directory' } },
      { copy: { content: '{{ item.value }}', dest: '{{ containerd_cfg_dir }}/{{ item.key }}' }, with_dict: '{{ containerd_base_runtime_specs | default({}) }}' },
      { template: { src: tpl('config.toml.j2'), dest: '{{ containerd_cfg_dir }}/config.toml' } },
      { file: { path: '{{ containerd_cfg_dir }}/certs.d/{{ item.prefix }}', state: 'directory' }, loop: '{{ containerd_registries_mirrors }}' },
      { template: { src: tpl('hosts.toml.j2'), dest: '{{ containerd_cfg_dir }}/certs.d/{{ item.prefix }}/hosts.toml' }, loop: '{{ containerd_registries_mirrors }}' },
      // The control: the same template for an upstream prefix, into a certs.d of its own.
      { file: { path: `${tmp}/control.d/{{ item.prefix }}`, state: 'directory' }, loop: control },
      { template: { src: tpl('hosts.toml.j2'), dest: `${tmp}/control.d/{{ item.prefix }}/hosts.toml` }, loop: control },
      {
        copy: {
          dest: '{{ out_file }}',
          content:
            "{% set out = [] %}{% for k, d in downloads.items() if d.container | default(false) | bool %}" +
            "{% set _ = out.append({'component': k, 'enabled': d.enabled | default(true) | bool, 'image': d.repo ~ ':' ~ d.tag}) %}{% endfor %}" +
            `{{ {'pull': image_pull_command, 'images': out, 'control': '${tmp}/control.d'} | to_json }}`,
        },
      },
    ],
  });
  rendered = JSON.parse(readFileSync(paths.out_file, 'utf8'));

  // The bundle: the fixture image under one name per registry kubespray's downloads name (enabled ones first).
  const fixture = buildFixtureImages(join(tmp, 'fixture'));
  const byRegistry = new Map<string, string>();
  for (const i of [...rendered.images].sort((a, b) => Number(b.enabled) - Number(a.enabled))) {
    const upstream = upstreamImageOf(i.image, registry);
    if (upstream && !byRegistry.has(upstream.split('/')[0]!)) byRegistry.set(upstream.split('/')[0]!, i.image);
  }
  const bundleDir = join(tmp, 'bundle');
  mkdirSync(join(bundleDir, 'repos'), { recursive: true });
  for (const nodeRef of byRegistry.values()) {
    await run('skopeo', ['copy', '--quiet', `oci:${fixture}:busybox`, `oci:${join(bundleDir, 'repos/images')}:${upstreamImageOf(nodeRef, registry)}`]);
    pulled.push(nodeRef);
  }
  mirror = await startMirror({ bundleDir, mounts: BUNDLE_MOUNTS, port, logDir: join(tmp, 'logs') });

  // The internet, standing in, with every image the misses ask for.
  const ip = await startStandIn(join(tmp, 'standin'));
  mkdirSync(join(tmp, 'standin/certs'));
  writeFileSync(join(tmp, 'standin/certs/ca.crt'), readFileSync(caFile));
  for (const m of new Set(MISSES.map((x) => x.standIn))) {
    await run('skopeo', ['copy', '--quiet', '--dest-cert-dir', join(tmp, 'standin/certs'), `oci:${fixture}:busybox`, `docker://${ip}:443/${m}`]);
  }
  standInLog = '';
  hostsFile = join(tmp, 'hosts');
  writeFileSync(hostsFile, `127.0.0.1 localhost\n${ip} ${UPSTREAM_NAMES.join(' ')}\n`);

  const log = createWriteStream(join(tmp, 'containerd.log'));
  containerd = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, 'containerd', '--config', join(cfg, 'config.toml'), '--address', sock], {
    env: { ...process.env, SSL_CERT_FILE: caFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  containerd.stdout!.pipe(log);
  containerd.stderr!.pipe(log);
  for (let i = 0; !existsSync(sock); i++) {
    if (containerd.exitCode !== null || i > 400) throw new Error(`containerd did not start: ${readFileSync(join(tmp, 'containerd.log'), 'utf8').slice(-3000)}`);
    await sleep(50);
  }
}, 240_000);

afterAll(async () => {
  if (containerd) await stopProcess(containerd);
  if (standIn) await stopProcess(standIn);
  await mirror?.close();
  if (tmp) {
    // containerd's overlay snapshots may still be mounted under its root: unmount them before removing.
    execFileSync('sh', ['-c', 'grep -o " $1/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l', 'sh', tmp]);
    rmSync(tmp, { recursive: true, force: true });
  }
});

describe("kubespray's containerd templates, rendered with the installer's vars", () => {
  it('make the CRI read certs.d, with one registry in it, the mirror, as host and as server', () => {
    const config = readFileSync(join(cfg, 'config.toml'), 'utf8');
    expect(config).toContain(`config_path = "${cfg}/certs.d"`);
    expect(config).not.toContain('registry.mirrors');
    expect(config).toContain(`sandbox_image = "${registry}/registry.k8s.io/pause:3.9"`);
    expect(readdirSync(join(cfg, 'certs.d'))).toEqual([registry]);
    const hosts = readFileSync(join(cfg, 'certs.d', registry, 'hosts.toml'), 'utf8');
    const servers = [...hosts.matchAll(/^server = "([^"]+)"/gm)].map((m) => m[1]);
    const hostEntries = [...hosts.matchAll(/^\[host\."([^"]+)"\]/gm)].map((m) => m[1]);
    expect(servers).toEqual([`https://${registry}`]);
    expect(hostEntries).toEqual([`http://${registry}`]);
  });

  it("name every image of kubespray's downloads, enabled or not, under the mirror", () => {
    expect(rendered.images.length).toBeGreaterThan(40);
    const outside = rendered.images.filter((i) => !i.image.startsWith(`${registry}/`));
    expect(outside).toEqual([]);
    // Each upstream registry kubespray's download list uses, as the first path component below the mirror.
    const upstreams = new Set(rendered.images.map((i) => upstreamImageOf(i.image, registry)!.split('/')[0]));
    expect([...upstreams].sort()).toEqual(['docker.io', 'ghcr.io', 'quay.io', 'registry.k8s.io']);
    expect(rendered.pull).toBe(`/usr/bin/ctr -n k8s.io images pull --hosts-dir ${cfg}/certs.d`);
  });

  it('enable the images the completeness check computes, for calico (the default) and for flannel', async () => {
    const strings = Object.fromEntries(Object.entries(installerVars).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const settings = Object.fromEntries(Object.entries(installerVars).filter(([, v]) => typeof v === 'string' || typeof v === 'boolean')) as Settings;
    // kubeadm's own images come from `kubeadm config images list`, not from `downloads:`.
    const computed = (s: Settings) => kubesprayDownloads(s, ['amd64'], strings).images.filter((i) => !i.component.startsWith('kubeadm_')).map((i) => i.ref);
    expect(rendered.images.filter((i) => i.enabled).map((i) => i.image).sort()).toEqual(computed(settings).sort());
    // The same with conf/vars.yml choosing flannel, through the installer again.
    const flannelDir = join(tmp, 'flannel');
    mkdirSync(flannelDir);
    const varsYml = VARS_YML_TEMPLATE.replace(/^kube_network_plugin: calico$/m, 'kube_network_plugin: flannel');
    expect(varsYml).not.toBe(VARS_YML_TEMPLATE);
    const flannelVars = await installerVarsFile({ dir: flannelDir, kubespray, mirrorHost: '127.0.0.1', port: Number(registry.split(':')[1]), varsYml });
    await runKubesprayPlay(flannelDir, 'flannel', {
      kubespray,
      roles: [],
      facts: true,
      extraVarFiles: [flannelVars],
      tasks: [{ copy: { dest: `${flannelDir}/enabled.json`, content: "{{ downloads | dict2items | selectattr('value.container', 'defined') | selectattr('value.container') | selectattr('value.enabled') | map(attribute='value') | map(attribute='repo') | list | to_json }}" } }],
    });
    const flannelRepos: string[] = JSON.parse(readFileSync(join(flannelDir, 'enabled.json'), 'utf8'));
    const flannel = computed({ ...settings, kube_network_plugin: 'flannel' });
    expect(flannel.map((r) => r.slice(0, r.lastIndexOf(':'))).sort()).toEqual([...flannelRepos].sort());
    expect(flannel).toContain(`${registry}/docker.io/flannel/flannel:v0.22.0`);
    expect(flannel).toContain(`${registry}/docker.io/flannel/flannel-cni-plugin:v1.1.2`);
  }, 180_000);
});

describe('a private containerd with that config pulls from the mirror alone', () => {
  it("kubespray's own pull command (ctr --hosts-dir) gets one image of each registry from the mirror", async () => {
    expect(pulled.map((p) => upstreamImageOf(p, registry)!.split('/')[0]).sort()).toEqual(['docker.io', 'ghcr.io', 'quay.io', 'registry.k8s.io']);
    const [bin, ...args] = rendered.pull.split(' ');
    for (const ref of pulled) await asNode([bin!, ...args, ref]);
    const ls = (await asNode(['ctr', '-n', 'k8s.io', 'images', 'ls', '-q'])).stdout.split('\n');
    for (const ref of pulled) expect(ls).toContain(ref);
    const access = readFileSync(join(tmp, 'logs', 'access.log'), 'utf8');
    for (const ref of pulled) {
      const upstream = upstreamImageOf(ref, registry)!;
      const path = `/v2/${upstream.slice(0, upstream.lastIndexOf(':'))}/manifests/${upstream.slice(upstream.lastIndexOf(':') + 1)}`;
      expect(access, path).toContain(`${path} 200`);
    }
    expect(mirror.misses).toEqual([]);
    expect(standInRequests()).toEqual([]);
  }, 120_000);

  it('the CRI (what kubelet asks) pulls the sandbox image and calico through config_path from the mirror', async () => {
    const sandbox = /sandbox_image = "([^"]+)"/.exec(readFileSync(join(cfg, 'config.toml'), 'utf8'))![1]!;
    const calico = rendered.images.find((i) => i.component === 'calico_node')!.image;
    await asNode(['ctr', '-n', 'k8s.io', 'images', 'rm', sandbox, calico]).catch(() => undefined);
    for (const ref of [sandbox, calico]) expect(await criPullImage(sock, ref)).toMatch(/^sha256:[0-9a-f]{64}$/);
    const ls = (await asNode(['ctr', '-n', 'k8s.io', 'images', 'ls', '-q'])).stdout.split('\n');
    expect(ls).toContain(sandbox);
    expect(ls).toContain(calico);
    expect(mirror.misses).toEqual([]);
    expect(standInRequests()).toEqual([]);
  }, 120_000);

  it('a miss fails, through ctr and through the CRI, is logged by the mirror, and never reaches the internet', async () => {
    const [bin, ...args] = rendered.pull.split(' ');
    for (const m of MISSES) {
      const ref = `${registry}/${m.upstream}`;
      const viaCtr = await asNode([bin!, ...args, ref]).then(() => 'pulled', (e) => String(e.stderr));
      // The last host tried is kubespray's `server`, the mirror's own address over https, which the plain-http
      // mirror refuses: containerd's message names it ("server gave HTTP response to HTTPS client"), never an upstream.
      expect(viaCtr, ref).toContain(`failed to resolve reference "${ref}"`);
      expect(viaCtr, ref).toContain(`https://${registry}/v2/`);
      const viaCri = await criPullImage(sock, ref).then(() => 'pulled', (e: Error) => e.message);
      expect(viaCri, ref).toMatch(/grpc-status 2: failed to pull and unpack image/);
      expect(viaCri, ref).toContain(`https://${registry}/v2/`);
      const repo = m.upstream.slice(0, m.upstream.lastIndexOf(':'));
      expect(mirror.misses.some((x) => x.path.startsWith(`/v2/${repo}/manifests/1`)), repo).toBe(true);
    }
    expect(standInRequests()).toEqual([]);
  }, 120_000);

  it("control: kubespray's hosts.toml for an upstream prefix sends the same miss to the internet, which answers", async () => {
    const hosts = readFileSync(join(rendered.control, 'docker.io/hosts.toml'), 'utf8');
    expect(hosts).toMatch(/^server = "https:\/\/docker\.io"$/m);
    await asNode(['ctr', '-n', 'control', 'images', 'pull', '--hosts-dir', rendered.control, 'docker.io/library/absent:1']);
    expect(standInRequests().some((l) => l.includes('/v2/library/absent/manifests/1'))).toBe(true);
  }, 120_000);
});
